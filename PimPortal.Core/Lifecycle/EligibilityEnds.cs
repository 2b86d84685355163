using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Records (audits) the end of eligibilities whose end has passed — the worker's daily pass, or an administrator about
/// to give the same principal the role again (one current eligibility per principal, role and scope). Ends found long
/// after the fact (a database from before ends were recorded, a portal stopped for weeks) are recorded together, in
/// one audit event, rather than as a flood.
/// </summary>
public static class EligibilityEnds
{
    /// <summary>Ends older than this when found are recorded together, in one audit event.</summary>
    public static readonly TimeSpan BacklogAge = TimeSpan.FromDays(7);

    /// <summary>
    /// Records the ends of <paramref name="ended"/> (tracked, with their roles) in the caller's unit of work, as the
    /// portal itself; with <paramref name="groupBacklog"/> (the worker's pass), ends older than <see cref="BacklogAge"/>
    /// are recorded together.
    /// </summary>
    public static void Record(LifecycleContext work, IReadOnlyCollection<RoleEligibility> ended, bool groupBacklog = true)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(ended);
        if (ended.Count == 0)
        {
            return;
        }

        // An end is the portal's record of time passing, whoever's command came upon it.
        var portal = work.Actor.IsSystem ? work : work.As(Actor.System);
        var backlogBefore = groupBacklog ? work.Now - BacklogAge : DateTimeOffset.MinValue;
        foreach (var eligibility in ended)
        {
            eligibility.EndRecorded(work.Now);
            if (eligibility.NotAfter > backlogBefore)
            {
                portal.Audit(AuditActions.EligibilityEnded, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                    new { role = eligibility.Role.DisplayName, notAfter = eligibility.NotAfter }, eligibility.PrincipalId, eligibility.RoleId);
            }
        }

        var backlog = ended.Where(e => e.NotAfter <= backlogBefore).ToList();
        if (backlog.Count > 0)
        {
            portal.Audit(AuditActions.EligibilityEnded, "eligibility", "backlog", AuditOutcome.Success,
                new { count = backlog.Count, endedBefore = backlogBefore, eligibilities = backlog.Select(e => e.Id) });
        }

        work.Announce.WakeExpiry();
        work.Announce.RolesOf(ended.Select(e => e.PrincipalId));
    }

    /// <summary>
    /// Records the end of the principal's ended eligibilities for the role at the scope that nobody recorded yet, so a new
    /// one can be current. Each is recorded on its own, however long ago it ended.
    /// </summary>
    public static async Task RecordForAsync(LifecycleContext work, Guid principalId, Guid roleId, string scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var now = work.Now;
        var ended = await work.Db.Eligibilities.Include(e => e.Role)
            .Where(e => e.PrincipalId == principalId && e.RoleId == roleId && e.Scope == scope && e.RemovedAt == null && e.EndRecordedAt == null
                && e.NotAfter != null && e.NotAfter <= now)
            .ToListAsync(cancellationToken);
        Record(work, ended, groupBacklog: false);
    }
}
