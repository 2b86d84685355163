using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Approvals;

/// <summary>
/// One request with its decisions and timeline (requested, each decision, approved or denied, granted, provisioned,
/// ended...), for its requester, the approvers of its role, PIM administrators and auditors — nobody else.
/// </summary>
public sealed record GetRequestDetails(Guid RequestId) : IQuery<RequestDetailsView>;

/// <param name="CanDecide">The viewer may approve or deny it now.</param>
/// <param name="CanCancel">The viewer is the requester and it is still pending or scheduled.</param>
public sealed record RequestDetailsView(
    QueueItem Request,
    ActivationRequestStatus Status,
    DateTimeOffset? DecidedAt,
    string? ClosedReason,
    Guid? ActivationId,
    bool IsMine,
    bool CanDecide,
    bool CanCancel,
    IReadOnlyList<TimelineEntry> Timeline,
    DateTimeOffset Now);

/// <summary>One thing that happened to the request or its grant.</summary>
public sealed record TimelineEntry(DateTimeOffset At, string Action, string Actor, AuditOutcome Outcome, string? Details);

public sealed class GetRequestDetailsHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time)
    : IQueryHandler<GetRequestDetails, RequestDetailsView>
{
    public async ValueTask<RequestDetailsView> Handle(GetRequestDetails query, CancellationToken cancellationToken)
    {
        var actor = context.Actor;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);

        var request = await db.ActivationRequests.AsNoTracking().Include(r => r.Role).Include(r => r.Decisions)
            .SingleOrDefaultAsync(r => r.Id == query.RequestId, cancellationToken);
        var isApprover = request is not null
            && await Approvers.RolesApprovedBy(db, actor.PrincipalId).AnyAsync(id => id == request.RoleId, cancellationToken);
        var isMine = request?.RequesterId == actor.PrincipalId;
        if (request is null || !(isMine || isApprover || actor.Has(PortalPermissions.PimAdministrator) || actor.Has(PortalPermissions.Auditor)))
        {
            throw new NotFoundException("That request does not exist, or you may not see it.");
        }

        var people = request.Decisions.Select(d => d.ApproverId).Append(request.RequesterId).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => people.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => (p.DisplayName, p.UserPrincipalName, p.CredentialsChangedAt), cancellationToken);
        var decisions = request.Decisions.OrderBy(d => d.DecidedAt)
            .Select(d => new DecisionView(d.ApproverId, names[d.ApproverId].DisplayName, d.Verdict, d.Reason, d.DecidedAt)).ToList();

        // The timeline is the audit trail of the request and of the grant it produced (or extended).
        var requestId = request.Id.ToString();
        var activationId = (request.ActivationId ?? request.TargetActivationId)?.ToString();
        // Refused attempts (someone trying to decide who may not) are for auditors and administrators.
        var seesRefusals = actor.Has(PortalPermissions.PimAdministrator) || actor.Has(PortalPermissions.Auditor);
        var events = await db.AuditEvents.AsNoTracking()
            .Where(e => (e.TargetType == "request" && e.TargetId == requestId) || (activationId != null && e.TargetType == "activation" && e.TargetId == activationId))
            .Where(e => seesRefusals || e.Outcome != AuditOutcome.Refused)
            .OrderBy(e => e.Id)
            .Select(e => new TimelineEntry(e.OccurredAt, e.Action, e.ActorName, e.Outcome, e.Details))
            .ToListAsync(cancellationToken);

        var item = new QueueItem(
            request.Id, request.RequesterId, names[request.RequesterId].DisplayName, names[request.RequesterId].UserPrincipalName, request.RoleId,
            request.Role.DisplayName, request.Role.Kind, request.Scope, request.Kind, request.Justification, request.TicketNumber, request.TicketSystem,
            request.RequestedStart, request.Duration, request.CreatedAt, request.ExpiresAt ?? request.DecidedAt ?? request.CreatedAt, request.ApprovalsNeeded,
            decisions, decisions.Find(d => d.ApproverId == actor.PrincipalId)?.Verdict)
        {
            RequesterCredentialsResetAt = Principal.RecentCredentialChangeBefore(names[request.RequesterId].CredentialsChangedAt, request.CreatedAt),
        };
        var pending = request.Status == ActivationRequestStatus.Pending && request.ExpiresAt > now;
        return new RequestDetailsView(
            item, request.Status, request.DecidedAt, request.ClosedReason, request.ActivationId, isMine,
            CanDecide: pending && isApprover && !isMine && item.MyVerdict is null,
            CanCancel: isMine && request.IsWaiting,
            events, now);
    }
}
