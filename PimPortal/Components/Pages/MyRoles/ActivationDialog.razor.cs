using Mediator;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;

namespace PimPortal.Components.Pages.MyRoles;

/// <summary>
/// The activation (or extension) dialog: duration, justification, ticket and authenticator code as the roles
/// require, with the policy's dry run shown as the user types. The server decides; the dialog only shows it.
/// </summary>
public sealed partial class ActivationDialog
{
    // Violations the checklist already shows as unmet requirements; the others are listed as problems.
    private static readonly HashSet<PolicyViolationCode> ShownAsRequirements =
        [PolicyViolationCode.JustificationMissing, PolicyViolationCode.TicketMissing, PolicyViolationCode.MfaRequired, PolicyViolationCode.DurationInvalid];

    private decimal hours = 1m;
    private string? justification;
    private string? ticketNumber;
    private string? ticketSystem;
    private string? code;
    private ActivationPreview? preview;
    private IReadOnlyList<string> errors = [];
    private bool submitting;
    private int previewVersion;
    private bool scheduled;
    private string? startText;

    [CascadingParameter]
    private IMudDialogInstance Dialog { get; set; } = default!;

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private LocalTime Local { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private Microsoft.Extensions.Options.IOptions<PimOptions> Options { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private Microsoft.JSInterop.IJSRuntime JS { get; set; } = default!;

    /// <summary>Entra mode: MFA is proved through Conditional Access (a round trip to Microsoft), not a code.</summary>
    private bool StepsUpWithEntra => Options.Value.Mode == PimMode.Entra;

    /// <summary>The roles to activate; null when extending. Default: null.</summary>
    [Parameter]
    public IReadOnlyList<EligibleRole>? Roles { get; set; }

    /// <summary>The activation to extend; null when activating. Default: null.</summary>
    [Parameter]
    public ActiveRole? Extending { get; set; }

    // Until the first dry run answers: the roles' own maximum. After: what the policy says is allowed now.
    private TimeSpan RoleMaximum => Roles is { Count: > 0 } roles ? roles.Min(r => r.MaxDuration) : Extending?.MaxDuration ?? TimeSpan.FromHours(1);

    private TimeSpan MaxDuration => preview?.MaxDuration is { } max && max > TimeSpan.Zero ? max : RoleMaximum;

    private decimal MaxHours => (decimal)MaxDuration.TotalHours;

    private static decimal MinHours => Math.Round((decimal)ActivationPolicy.MinimumDuration.TotalHours, 4);

    private string DurationHelp => Roles is { Count: > 1 }
        ? $"Up to {Display.Duration(MaxDuration)} (the shortest maximum of the selected roles)"
        : Extending is not null ? $"From now; up to {Display.Duration(MaxDuration)}" : $"Up to {Display.Duration(MaxDuration)}";

    private TimeSpan Duration => TimeSpan.FromMinutes((double)Math.Round(hours * 60m));

    private bool CodeEntered => Totp.IsWellFormed(code);

    /// <summary>The scheduled start typed, or null for "now" (or a start that is not a date and time yet).</summary>
    private DateTimeOffset? StartAt =>
        scheduled && DateTime.TryParseExact(startText, "yyyy-MM-dd'T'HH:mm", System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.None, out var local)
            ? Local.FromLocal(local)
            : null;

    private IEnumerable<PolicyRequirement> Requirements => preview is null
        ? []
        : preview.Items.SelectMany(i => i.Decision.Requirements)
            .GroupBy(r => r.Description, StringComparer.Ordinal)
            .Select(g => g.First() with { IsMet = g.All(r => r.IsMet) });

    private IEnumerable<string> Problems => preview is null
        ? []
        : preview.Items.SelectMany(i => i.Decision.Violations
            .Where(v => !ShownAsRequirements.Contains(v.Code))
            .Select(v => preview.Items.Count > 1 ? $"{i.RoleName}: {v.Message}" : v.Message));

    protected override async Task OnInitializedAsync()
    {
        hours = Math.Min(1m, (decimal)RoleMaximum.TotalHours);
        await RefreshPreviewAsync();
    }

    private Task OnHoursChanged(decimal value)
    {
        hours = value;
        return RefreshPreviewAsync();
    }

    private Task OnJustificationChanged(string? value)
    {
        justification = value;
        return RefreshPreviewAsync();
    }

    private Task OnTicketNumberChanged(string? value)
    {
        ticketNumber = value;
        return RefreshPreviewAsync();
    }

    private Task OnTicketSystemChanged(string? value)
    {
        ticketSystem = value;
        return RefreshPreviewAsync();
    }

    private Task OnScheduledChanged(bool value)
    {
        scheduled = value;
        startText ??= Local.ForInput(Time.GetUtcNow().AddHours(1));
        return RefreshPreviewAsync();
    }

    private Task OnStartChanged(string? value)
    {
        startText = value;
        return RefreshPreviewAsync();
    }

    private Task OnCodeChanged(string? value)
    {
        code = value;
        return RefreshPreviewAsync();
    }

    private async Task RefreshPreviewAsync()
    {
        var version = ++previewVersion;
        try
        {
            var result = Extending is { } active
                ? await Sender.Send(new PreviewExtension(active.ActivationId, Duration, justification, ticketNumber, ticketSystem, CodeEntered))
                : await Sender.Send(new PreviewActivation([.. (Roles ?? []).Select(r => new ActivationItem(r.EligibilityId, Duration))], justification, ticketNumber, ticketSystem, CodeEntered, StartAt));

            // Answers can arrive out of order while the user types; only the latest counts.
            if (version == previewVersion)
            {
                preview = result;
            }
        }
        catch (ValidationFailedException)
        {
            // The dry run refuses malformed input (e.g. an empty duration); the submit will say what is wrong.
        }
        catch (PimException ex)
        {
            errors = [ex.Message];
        }
    }

    private async Task SubmitAsync()
    {
        if (submitting)
        {
            return;
        }

        submitting = true;
        errors = [];
        try
        {
            if (StepsUpWithEntra && preview?.NeedsMfaCode == true && preview.CanSubmit)
            {
                // Keep the activation (or extension) as filled in, go to Microsoft for the step-up; it completes on the way back.
                await StepUpRoundTrip.StartAsync(Sender, JS, Navigation, secret => Extending is { } extending
                    ? new BeginStepUp(null, secret, new ExtendActivation(extending.ActivationId, Duration, justification, ticketNumber, ticketSystem, null))
                    : new BeginStepUp(new ActivateRoles([.. (Roles ?? []).Select(r => new ActivationItem(r.EligibilityId, Duration))], justification, ticketNumber, ticketSystem, null, StartAt), secret));
                return;
            }

            object result = Extending is { } active
                ? await Sender.Send(new ExtendActivation(active.ActivationId, Duration, justification, ticketNumber, ticketSystem, code))
                : await Sender.Send(new ActivateRoles([.. (Roles ?? []).Select(r => new ActivationItem(r.EligibilityId, Duration))], justification, ticketNumber, ticketSystem, code, StartAt));
            Dialog.Close(DialogResult.Ok(result));
        }
        catch (RefusedException ex)
        {
            errors = ex.Reasons;
            code = null;
            await RefreshPreviewAsync();
        }
        catch (PimException ex)
        {
            errors = ex is ValidationFailedException validation ? [.. validation.Errors.SelectMany(e => e.Value)] : [ex.Message];
        }
        finally
        {
            submitting = false;
        }
    }

    private void Cancel() => Dialog.Cancel();
}
