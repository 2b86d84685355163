using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Approvals;

namespace PimPortal.Components.Pages.Approvals;

/// <summary>How the portal tells an approver what their decision did (the queue and the request page alike).</summary>
internal static class DecisionMessage
{
    public static (string Text, Severity Severity) For(DecisionResult result, QueueItem request, LocalTime local) => result.Status switch
    {
        ActivationRequestStatus.Pending => ($"Approved: {result.ApprovalsGiven} of {result.ApprovalsNeeded} approvals", Severity.Success),
        ActivationRequestStatus.Approved => ($"{request.RequesterName} now gets {request.RoleName}", Severity.Success),
        ActivationRequestStatus.Scheduled => ($"Approved: {request.RoleName} starts at {local.DateTime(request.RequestedStart)}", Severity.Success),
        ActivationRequestStatus.Lapsed => (result.ClosedReason ?? "Approved, but nothing was granted", Severity.Warning),
        _ => ($"Denied {request.RequesterName}'s request", Severity.Success),
    };
}
