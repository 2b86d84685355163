using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Approvals;

/// <summary>
/// The signed-in approver's queue: pending requests of the roles they may approve (directly or through a group),
/// except their own and those past their deadline, soonest deadline first. Keyset pagination: pass the previous page's <see cref="ApprovalQueuePage.Next"/>.
/// </summary>
public sealed record GetApprovalQueue(QueueCursor? After = null, int PageSize = GetApprovalQueue.DefaultPageSize) : IQuery<ApprovalQueuePage>
{
    public const int DefaultPageSize = 50;

    public const int MaxPageSize = 200;
}

/// <summary>Where a queue page ended: the deadline and id of its last request.</summary>
public sealed record QueueCursor(DateTimeOffset ExpiresAt, Guid RequestId);

/// <summary>One page of the queue, and the cursor of the next (null on the last page).</summary>
public sealed record ApprovalQueuePage(IReadOnlyList<QueueItem> Items, QueueCursor? Next, DateTimeOffset Now);

/// <summary>A pending request as its approvers see it.</summary>
/// <param name="MyVerdict">The viewer's own decision on it, when they already approved (it waits for others).</param>
public sealed record QueueItem(
    Guid RequestId,
    Guid RequesterId,
    string RequesterName,
    string? RequesterUpn,
    Guid RoleId,
    string RoleName,
    RoleKind RoleKind,
    string Scope,
    ActivationRequestKind RequestKind,
    string? Justification,
    string? TicketNumber,
    string? TicketSystem,
    DateTimeOffset RequestedStart,
    TimeSpan Duration,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    int ApprovalsNeeded,
    IReadOnlyList<DecisionView> Decisions,
    ApprovalVerdict? MyVerdict)
{
    /// <summary>
    /// The requester's credentials were reset shortly before they asked (<see cref="Principal.RecentCredentialChangeBefore"/>):
    /// whoever reset them could be asking. Null otherwise.
    /// </summary>
    public DateTimeOffset? RequesterCredentialsResetAt { get; init; }

    public int ApprovalsGiven => Decisions.Count(d => d.Verdict == ApprovalVerdict.Approve);

    /// <summary>Whether the requester chose a start after asking (otherwise it starts when approved).</summary>
    public bool IsScheduled => RequestedStart > CreatedAt;
}

/// <summary>One approver's decision, as shown next to a request.</summary>
public sealed record DecisionView(Guid ApproverId, string ApproverName, ApprovalVerdict Verdict, string? Reason, DateTimeOffset DecidedAt);

public sealed class GetApprovalQueueValidator : AbstractValidator<GetApprovalQueue>
{
    public GetApprovalQueueValidator() =>
        RuleFor(x => x.PageSize).InclusiveBetween(1, GetApprovalQueue.MaxPageSize)
            .WithMessage($"A page holds 1 to {GetApprovalQueue.MaxPageSize} requests.");
}

public sealed class GetApprovalQueueHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time)
    : IQueryHandler<GetApprovalQueue, ApprovalQueuePage>
{
    public async ValueTask<ApprovalQueuePage> Handle(GetApprovalQueue query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);

        var roles = await Approvers.RolesApprovedBy(db, me).Distinct().ToListAsync(cancellationToken);
        if (roles.Count == 0)
        {
            return new ApprovalQueuePage([], null, now);
        }

        var pending = db.ActivationRequests.AsNoTracking()
            .Where(r => r.Status == ActivationRequestStatus.Pending && r.ExpiresAt > now && roles.Contains(r.RoleId) && r.RequesterId != me);
        if (query.After is { } after)
        {
            pending = pending.Where(r => r.ExpiresAt > after.ExpiresAt || (r.ExpiresAt == after.ExpiresAt && r.Id.CompareTo(after.RequestId) > 0));
        }

        var rows = await pending
            .OrderBy(r => r.ExpiresAt).ThenBy(r => r.Id)
            .Take(query.PageSize + 1)
            .Select(r => new
            {
                r.Id, r.RequesterId, r.RoleId, RoleName = r.Role.DisplayName, RoleKind = r.Role.Kind, r.Scope, r.Kind, r.Justification,
                r.TicketNumber, r.TicketSystem, r.RequestedStart, r.Duration, r.CreatedAt, r.ExpiresAt, r.ApprovalsNeeded,
            })
            .ToListAsync(cancellationToken);
        var page = rows.Take(query.PageSize).ToList();
        var ids = page.Select(r => r.Id).ToList();

        // Decisions and names in one more round trip each, for the page only.
        var decisions = ids.Count == 0
            ? []
            : await db.ApprovalDecisions.AsNoTracking().Where(d => ids.Contains(d.RequestId)).OrderBy(d => d.DecidedAt).ToListAsync(cancellationToken);
        var people = page.Select(r => r.RequesterId).Concat(decisions.Select(d => d.ApproverId)).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => people.Contains(p.Id))
            .ToDictionaryAsync(p => p.Id, p => (p.DisplayName, p.UserPrincipalName, p.CredentialsChangedAt), cancellationToken);

        var items = page.Select(r =>
        {
            var mine = decisions.Where(d => d.RequestId == r.Id).Select(d => new DecisionView(d.ApproverId, names[d.ApproverId].DisplayName, d.Verdict, d.Reason, d.DecidedAt)).ToList();
            return new QueueItem(
                r.Id, r.RequesterId, names[r.RequesterId].DisplayName, names[r.RequesterId].UserPrincipalName, r.RoleId, r.RoleName, r.RoleKind, r.Scope, r.Kind,
                r.Justification, r.TicketNumber, r.TicketSystem, r.RequestedStart, r.Duration, r.CreatedAt, r.ExpiresAt!.Value, r.ApprovalsNeeded, mine,
                mine.Find(d => d.ApproverId == me)?.Verdict)
            {
                RequesterCredentialsResetAt = Principal.RecentCredentialChangeBefore(names[r.RequesterId].CredentialsChangedAt, r.CreatedAt),
            };
        }).ToList();
        var next = rows.Count > query.PageSize ? new QueueCursor(page[^1].ExpiresAt!.Value, page[^1].Id) : null;
        return new ApprovalQueuePage(items, next, now);
    }
}
