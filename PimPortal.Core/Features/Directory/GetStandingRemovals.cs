using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// The removals of standing assignments not done yet — with the outbox's attempts, last error and next try — and those
/// that failed in the last 30 days (PIM administrators): a removal the directory has not made is visible, like a grant
/// not yet confirmed on My roles.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetStandingRemovals : IQuery<IReadOnlyList<StandingRemovalView>>;

/// <param name="NextAttemptAt">When the outbox tries again (pending removals only).</param>
public sealed record StandingRemovalView(
    Guid Id, Guid PrincipalId, string PrincipalName, string RoleName, RoleKind Kind, string Scope, StandingRemovalSource Source, StandingRemovalStatus Status,
    string RequestedBy, DateTimeOffset RequestedAt, int Attempts, string? Error, DateTimeOffset? NextAttemptAt);

public sealed class GetStandingRemovalsHandler(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time) : IQueryHandler<GetStandingRemovals, IReadOnlyList<StandingRemovalView>>
{
    /// <summary>How far back failed removals are listed.</summary>
    public static readonly TimeSpan FailedShownFor = TimeSpan.FromDays(30);

    public async ValueTask<IReadOnlyList<StandingRemovalView>> Handle(GetStandingRemovals query, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow() - FailedShownFor;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await (
                from r in db.StandingRemovals.AsNoTracking()
                where r.Status == StandingRemovalStatus.Pending || (r.Status == StandingRemovalStatus.Failed && r.CompletedAt > since)
                join role in db.PrivilegedRoles on r.RoleId equals role.Id
                join p in db.Principals on r.PrincipalId equals p.Id into principals
                from p in principals.DefaultIfEmpty()
                let message = db.Outbox.Where(m => m.TargetId == r.Id).OrderByDescending(m => m.CreatedAt).Select(m => new { m.Attempts, m.LastError, m.DueAt, m.ProcessedAt }).FirstOrDefault()
                select new
                {
                    r.Id, r.PrincipalId, Principal = p == null ? null : p.DisplayName, Role = role.DisplayName, role.Kind, r.Scope, r.Source, r.Status, r.RequestedByName,
                    r.RequestedAt, r.Error, Attempts = message == null ? 0 : message.Attempts, LastError = message == null ? null : message.LastError,
                    DueAt = message == null ? (DateTimeOffset?)null : message.DueAt,
                })
            .ToListAsync(cancellationToken);
        return [.. rows
            .Select(r => new StandingRemovalView(r.Id, r.PrincipalId, r.Principal ?? r.PrincipalId.ToString(), r.Role, r.Kind, r.Scope, r.Source, r.Status, r.RequestedByName,
                r.RequestedAt, r.Attempts, r.Error ?? r.LastError, r.Status == StandingRemovalStatus.Pending ? r.DueAt : null))
            .OrderBy(r => r.Status).ThenByDescending(r => r.RequestedAt)];
    }
}
