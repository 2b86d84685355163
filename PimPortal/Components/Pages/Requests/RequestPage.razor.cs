using Mediator;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PimPortal.Components.Pages.Approvals;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.Requests;

/// <summary>One request, its decisions and its timeline — the page the notifications link to. Live.</summary>
public sealed partial class RequestPage : IDisposable
{
    private RequestDetailsView? view;
    private string? error;
    private bool busy;
    private int readVersion;

    [Parameter]
    public Guid Id { get; set; }

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private PortalEvents Events { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    private LocalTime Local { get; set; } = default!;

    protected override void OnInitialized()
    {
        // Subscribed before the first await, so Dispose always finds the handlers it removes.
        if (RendererInfo.IsInteractive)
        {
            Events.Raised += OnPortalEvent;
            Local.Changed += OnLocalTimeChanged;
        }
    }

    protected override Task OnParametersSetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        var version = ++readVersion;
        try
        {
            var read = await Sender.Send(new GetRequestDetails(Id));
            if (version == readVersion)
            {
                (view, error) = (read, null);
            }
        }
        catch (PimException ex)
        {
            // Access taken away (or the account disabled) meanwhile: show nothing of the request any more.
            if (version == readVersion)
            {
                (view, error) = (null, ex.Message);
            }
        }
    }

    private async Task DecideAsync(ApprovalVerdict verdict)
    {
        if (view is null)
        {
            return;
        }

        var parameters = new DialogParameters<DecisionDialog> { { d => d.Request, view.Request }, { d => d.Verdict, verdict } };
        var dialog = await Dialogs.ShowAsync<DecisionDialog>(verdict == ApprovalVerdict.Approve ? "Approve" : "Deny", parameters,
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true });
        if (await dialog.Result is { Canceled: false, Data: DecisionResult result })
        {
            var (text, severity) = DecisionMessage.For(result, view.Request, Local);
            Snackbar.Add(text, severity);
            await LoadAsync();
        }
    }

    private async Task CancelAsync()
    {
        busy = true;
        try
        {
            await Sender.Send(new CancelActivationRequest(Id));
            Snackbar.Add("Request cancelled", Severity.Success);
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
        finally
        {
            busy = false;
        }

        await LoadAsync();
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.Kind == PortalEventKind.ApprovalsChanged
            || (portalEvent.Kind == PortalEventKind.RolesChanged && portalEvent.PrincipalId == view?.Request.RequesterId))
        {
            _ = InvokeAsync(async () =>
            {
                await LoadAsync();
                StateHasChanged();
            });
        }
    }

    private void OnLocalTimeChanged() => _ = InvokeAsync(StateHasChanged);

    private static string StatusText(RequestDetailsView v) => v.Status switch
    {
        ActivationRequestStatus.Pending => "Pending approval",
        ActivationRequestStatus.Scheduled => "Approved · scheduled",
        ActivationRequestStatus.Lapsed => "Approved · not carried out",
        _ => v.Status.ToString(),
    };

    private static Color StatusColor(ActivationRequestStatus status) => status switch
    {
        ActivationRequestStatus.Pending or ActivationRequestStatus.Scheduled => Color.Warning,
        ActivationRequestStatus.Approved => Color.Success,
        ActivationRequestStatus.Denied or ActivationRequestStatus.Lapsed => Color.Error,
        _ => Color.Default,
    };

    /// <summary>An audit action as the timeline words it.</summary>
    internal static string ActionText(string action) => action switch
    {
        AuditActions.ActivationRequested => "Requested",
        AuditActions.ApprovalGiven => "Approved by an approver",
        AuditActions.ApprovalDenied => "Denied",
        AuditActions.RequestApproved => "Request approved",
        AuditActions.RequestDenied => "Request denied",
        AuditActions.RequestCancelled => "Cancelled by the requester",
        AuditActions.RequestExpired => "Expired: nobody decided in time",
        AuditActions.RequestLapsed => "Not carried out",
        AuditActions.RequestStarted => "Scheduled start reached",
        AuditActions.ApprovalRefused => "A decision was refused",
        AuditActions.ActivationGranted => "Granted",
        AuditActions.ActivationProvisioned => "Confirmed in the directory",
        AuditActions.ActivationProvisioningFailed => "The directory refused the grant",
        AuditActions.ActivationExtended => "Extended",
        AuditActions.ActivationDeactivated => "Deactivated",
        AuditActions.ActivationExpired => "Ended: time is up",
        AuditActions.ActivationRevoked => "Revoked",
        AuditActions.ActivationRemovedFromDirectory => "Removed from the directory",
        _ => action,
    };

    public void Dispose()
    {
        Events.Raised -= OnPortalEvent;
        Local.Changed -= OnLocalTimeChanged;
    }
}
