using Mediator;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Components.Shared;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Settings;

namespace PimPortal.Components.Pages.Settings;

/// <summary>
/// One role's settings, edited as a whole and saved with the version they were read at (a change someone made
/// meanwhile is reported, not overwritten). Every rule is checked again by Core. A protected role's settings are saved
/// with a fresh step-up: a code typed here, or in Entra mode a round trip to Microsoft that saves them on the way back.
/// </summary>
public sealed partial class RoleSettingsPage
{
    private RoleSettingsView? view;
    private SettingsForm? form;
    private PrincipalRef? picked;
    private string? loadError;
    private string? error;
    private bool conflict;
    private bool saving;
    private string? code;
    private string? resumeError;

    [Parameter]
    public Guid RoleId { get; set; }

    /// <summary>Entra mode: back from a step-up, the settings it was for are saved.</summary>
    [SupplyParameterFromQuery(Name = "resume")]
    public Guid? Resume { get; set; }

    [SupplyParameterFromQuery(Name = "stepup-failed")]
    public Guid? StepUpFailed { get; set; }

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private Microsoft.Extensions.Options.IOptions<PimOptions> Options { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    /// <summary>Entra mode: MFA is proved through Conditional Access (a round trip to Microsoft), not a code.</summary>
    private bool StepsUpWithEntra => Options.Value.Mode == PimMode.Entra;

    protected override async Task OnParametersSetAsync()
    {
        if (RendererInfo.IsInteractive && Resume is { } stepUp)
        {
            resumeError = await ResumeAsync(stepUp);

            // Resumed once: the address no longer says to.
            Navigation.NavigateTo($"settings/{RoleId}", replace: true);
        }

        await LoadAsync();
        error ??= resumeError ?? (StepUpFailed is null ? null : "That verification is not yours, was already used, or has expired; save again.");
    }

    /// <summary>Saves the change the step-up was for; why not, or null when saved.</summary>
    private async Task<string?> ResumeAsync(Guid stepUp)
    {
        try
        {
            await Sender.Send(new ResumeStepUp(stepUp));
            Snackbar.Add("Settings saved", Severity.Success);
            return null;
        }
        catch (PimException ex)
        {
            return ex.Message;
        }
    }

    private async Task LoadAsync()
    {
        error = null;
        conflict = false;
        try
        {
            view = await Sender.Send(new GetRoleSettings(RoleId));
            form = SettingsForm.From(view);
        }
        catch (PimException ex)
        {
            loadError = ex.Message;
        }
    }

    private async Task<IEnumerable<PrincipalRef>> SearchAsync(string? text, CancellationToken cancellationToken)
    {
        try
        {
            var found = await Sender.Send(new SearchPrincipals(text), cancellationToken);
            return found.Where(p => form?.Approvers.Exists(a => a.Id == p.Id) != true);
        }
        catch (PimException ex)
        {
            error = ex.Message;
            return [];
        }
    }

    private void AddApprover(PrincipalRef? principal)
    {
        if (principal is not null && form is not null && !form.Approvers.Exists(a => a.Id == principal.Id))
        {
            form.Approvers.Add(principal);
        }

        picked = null;
    }

    private async Task SaveAsync()
    {
        if (saving || view is null || form is null)
        {
            return;
        }

        saving = true;
        error = null;
        resumeError = null;
        conflict = false;
        try
        {
            var change = new UpdateRoleSettings(view.RoleId, view.Version, form.ToInput());
            if (view.IsProtected && StepsUpWithEntra)
            {
                // Keep the change as made, go to Microsoft for the step-up; it is saved on the way back.
                await StepUpRoundTrip.StartAsync(Sender, JS, Navigation, secret => new BeginStepUp(null, secret, Settings: change), then: $"/settings/{view.RoleId}");
                return;
            }

            await Sender.Send(view.IsProtected ? change with { AuthenticatorCode = code } : change);
            Snackbar.Add($"Settings of {view.RoleName} saved", Severity.Success);
            await LoadAsync();
        }
        catch (ConflictException ex)
        {
            error = ex.Message;
            conflict = true;
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
        finally
        {
            saving = false;
            code = null;
        }
    }

    private static string EventName(RoleNotificationEvent roleEvent) => roleEvent switch
    {
        RoleNotificationEvent.EligibilityAssigned => "Someone is made eligible",
        RoleNotificationEvent.ActiveAssigned => "Someone is assigned active",
        _ => "Someone activates the role",
    };

    /// <summary>The form's editable copy of the settings.</summary>
    private sealed class SettingsForm
    {
        public double MaxHours { get; set; }

        public bool RequireMfa { get; set; }

        public bool RequireJustification { get; set; }

        public bool RequireTicket { get; set; }

        public bool RequireApproval { get; set; }

        public List<PrincipalRef> Approvers { get; init; } = [];

        public int ApprovalsNeeded { get; set; }

        public int TimeoutHours { get; set; }

        public bool AllowPermanentEligibility { get; set; }

        public int MaxEligibilityDays { get; set; }

        public bool AllowPermanentActive { get; set; }

        public int MaxActiveDays { get; set; }

        public List<RuleForm> Rules { get; init; } = [];

        public static SettingsForm From(RoleSettingsView view)
        {
            var s = view.Settings;
            return new SettingsForm
            {
                MaxHours = s.MaxActivationDuration.TotalHours,
                RequireMfa = s.RequireMfa,
                RequireJustification = s.RequireJustification,
                RequireTicket = s.RequireTicket,
                RequireApproval = s.RequireApproval,
                Approvers = [.. view.Approvers],
                ApprovalsNeeded = s.ApprovalsNeeded,
                TimeoutHours = (int)Math.Round(s.ApprovalTimeout.TotalHours),
                AllowPermanentEligibility = s.AllowPermanentEligibility,
                MaxEligibilityDays = s.MaxEligibilityDays,
                AllowPermanentActive = s.AllowPermanentActiveAssignment,
                MaxActiveDays = s.MaxActiveAssignmentDays,
                Rules = [.. s.Notifications.Select(n => new RuleForm
                {
                    Event = n.Event,
                    Administrators = n.NotifyAdministrators,
                    Assignee = n.NotifyAssignee,
                    Additional = string.Join(", ", n.AdditionalRecipients),
                })],
            };
        }

        public RoleSettingsInput ToInput() => new(
            TimeSpan.FromHours(MaxHours), RequireMfa, RequireJustification, RequireTicket, RequireApproval, ApprovalsNeeded,
            [.. Approvers.Select(a => a.Id)], TimeSpan.FromHours(TimeoutHours), AllowPermanentEligibility, MaxEligibilityDays, AllowPermanentActive, MaxActiveDays,
            [.. Rules.Select(r => new NotificationRuleInput(r.Event, r.Administrators, r.Assignee,
                [.. (r.Additional ?? "").Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]))]);
    }

    private sealed class RuleForm
    {
        public RoleNotificationEvent Event { get; init; }

        public bool Administrators { get; set; }

        public bool Assignee { get; set; }

        public string? Additional { get; set; }
    }
}
