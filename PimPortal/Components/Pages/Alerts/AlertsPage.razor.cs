using Mediator;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Features.Alerts;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.Alerts;

/// <summary>
/// The alerts for PIM administrators, each with its remediation; a remedied alert is evaluated again at once. Live:
/// a break-glass use or another instance's evaluation shows without reload.
/// </summary>
public sealed partial class AlertsPage : IDisposable
{
    private IReadOnlyList<AlertView>? alerts;
    private bool showResolved;
    private bool busy;
    private string? error;

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    private LocalTime Local { get; set; } = default!;

    [Inject]
    private PortalEvents Events { get; set; } = default!;

    [Inject]
    private Microsoft.Extensions.Options.IOptions<PimOptions> Options { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private int StaleAfterDays => Options.Value.Alerts.StaleAfterDays;

    protected override async Task OnInitializedAsync()
    {
        if (RendererInfo.IsInteractive)
        {
            Events.Raised += OnPortalEvent;
        }

        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        try
        {
            alerts = await Sender.Send(new GetAlerts(showResolved));
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
    }

    private Task OnShowResolvedAsync(bool value)
    {
        showResolved = value;
        return LoadAsync();
    }

    private Task EvaluateAsync() => RunAsync(() => Task.CompletedTask, null);

    private async Task RequireMfaAsync(AlertView alert)
    {
        RoleSettingsView current;
        try
        {
            current = await Sender.Send(new GetRoleSettings(alert.RoleId!.Value));
        }
        catch (PimException ex)
        {
            error = ex.Message;
            return;
        }

        if (current.IsProtected)
        {
            // Its settings change only with a fresh step-up, which its settings page asks for.
            Snackbar.Add($"{current.RoleName} guards the whole tenant: turn on MFA on its settings page and verify to save.", Severity.Info);
            Navigation.NavigateTo($"settings/{current.RoleId}");
            return;
        }

        await RunAsync(() => Sender.Send(new UpdateRoleSettings(current.RoleId, current.Version, current.Settings with { RequireMfa = true })).AsTask(),
            "MFA is now required to activate the role");
    }

    private async Task RemoveAssignmentAsync(AlertView alert)
    {
        var reason = await ReasonDialog.AskAsync(Dialogs, "Remove the assignment", alert.Summary + ". It is removed from the directory now.", "Remove");
        if (reason is not null)
        {
            await RunAsync(() => Sender.Send(new RemoveActiveAssignment(alert.SubjectId!.Value, reason)).AsTask(), "Assignment removed");
        }
    }

    private async Task MakeEligibleAsync(AlertView alert)
    {
        var reason = await ReasonDialog.AskAsync(Dialogs, "Make eligible instead",
            "The holder becomes eligible for the role and the standing assignment is removed from the directory.", "Convert");
        if (reason is not null)
        {
            await RunAsync(async () =>
            {
                var result = await Sender.Send(new ConvertDriftToEligibility(alert.SubjectId!.Value, reason));
                if (!result.Removed)
                {
                    throw new RefusedException($"The eligibility is made; the standing assignment is not removed yet: {result.Error} The Directory page shows how it goes.");
                }
            }, "Converted to an eligibility");
        }
    }

    private async Task AcknowledgeAsync(AlertView alert)
    {
        var note = await ReasonDialog.AskAsync(Dialogs, "Acknowledge", "Say who used the account and why (kept in the audit trail).", "Acknowledge", "What you found");
        if (note is not null)
        {
            await RunAsync(() => Sender.Send(new AcknowledgeAlert(alert.Id, note)).AsTask(), "Acknowledged");
        }
    }

    /// <summary>Runs a remediation, then evaluates the alerts again so a remedied one goes at once.</summary>
    private async Task RunAsync(Func<Task> remediation, string? done)
    {
        busy = true;
        error = null;
        try
        {
            await remediation();
            await Sender.Send(new EvaluateAlertsNow());
            if (done is not null)
            {
                Snackbar.Add(done, Severity.Success);
            }

            await LoadAsync();
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
        finally
        {
            busy = false;
        }
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.Kind == PortalEventKind.AlertsChanged)
        {
            reloader ??= new CoalescingReload(async () =>
            {
                await LoadAsync();
                StateHasChanged();
            });
            _ = InvokeAsync(reloader.RequestAsync);
        }
    }

    private CoalescingReload? reloader;

    private static Severity SeverityOf(AlertView alert) => alert.ResolvedAt is not null ? Severity.Normal : alert.Severity switch
    {
        Core.Domain.AlertSeverity.High => Severity.Error,
        Core.Domain.AlertSeverity.Medium => Severity.Warning,
        _ => Severity.Info,
    };

    public void Dispose() => Events.Raised -= OnPortalEvent;
}
