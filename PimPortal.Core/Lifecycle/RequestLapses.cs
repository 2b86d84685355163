using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;


namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Requests that can no longer be carried out lapse — their eligibility removed or ended, the account disabled, the
/// activation to extend ended: each ends without a grant with its audit event, leaves the approvers' queues, and (when
/// asked) its requester is told. The one place a request lapses.
/// </summary>
public sealed class RequestLapses(Notifier notifier)
{
    /// <summary>
    /// Lapses <paramref name="requests"/> because of <paramref name="why"/> ("the eligibility was removed"); with
    /// <paramref name="tellRequester"/>, the requester is told in those words.
    /// </summary>
    public async Task LapseAsync(LifecycleContext work, IReadOnlyCollection<ActivationRequest> requests, string why, string? tellRequester, Func<ActivationRequest, string> roleName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return;
        }

        foreach (var request in requests)
        {
            request.Lapse($"Nothing was granted: {why}.", work.Now);
            work.Audit(AuditActions.RequestLapsed, "request", request.Id.ToString(), AuditOutcome.Success,
                new { reason = why, kind = request.Kind.ToString() }, request.RequesterId, request.RoleId);
            if (tellRequester is not null)
            {
                await notifier.RequestClosedAsync(work.Db, request, roleName(request), "not carried out", tellRequester, cancellationToken);
            }
        }

        var requesters = requests.Select(r => r.RequesterId).ToList();
        work.Announce.RolesOf(requesters);
        if (tellRequester is not null)
        {
            work.Announce.NotificationsOf(requesters);
        }

        await RetireAsync(work, [.. requests.Select(r => r.Id)], cancellationToken);
    }

    /// <summary>
    /// The requests left the approvers' hands (decided, cancelled, expired, lapsed): their "approval needed" notices are
    /// marked read and the approvers' queues re-read.
    /// </summary>
    public static async Task RetireAsync(LifecycleContext work, IReadOnlyCollection<Guid> requestIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        work.Announce.ApprovalsChanged();
        work.Announce.BellsOf(await Notifier.RetireApprovalRequestsAsync(work.Db, requestIds, work.Now, cancellationToken));
    }

    /// <summary>Pending extensions of activations that have just ended can no longer be carried out: they lapse.</summary>
    public async Task LapseExtensionsOfAsync(LifecycleContext work, IReadOnlyCollection<Guid> endedActivationIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var ids = endedActivationIds.ToList();
        var extensions = await work.Db.ActivationRequests
            .Where(r => r.Status == ActivationRequestStatus.Pending && r.TargetActivationId != null && ids.Contains(r.TargetActivationId.Value))
            .ToListAsync(cancellationToken);
        await LapseAsync(work, extensions, "the activation to extend has ended", null, _ => "", cancellationToken);
    }
}
