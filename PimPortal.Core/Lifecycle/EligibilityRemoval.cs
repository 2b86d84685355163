using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Removing eligibilities, the one way — one by a PIM administrator, or thousands by an access review's denials: each
/// marked removed (one statement for all), audited, the requests made from it that wait for approval or their start
/// lapsed; activations made from them are ended by the expiry worker, which this wakes.
/// </summary>
public sealed class EligibilityRemoval(RequestLapses lapses)
{
    /// <summary>
    /// Removes <paramref name="removals"/> inside the caller's transaction (the removal is one UPDATE, the rest is staged
    /// for its SaveChanges). With <paramref name="expectedVersion"/> (one removal) the row must still be as it was read.
    /// When any of them was removed or changed meanwhile, nothing is removed: <see cref="DbUpdateConcurrencyException"/>.
    /// </summary>
    public async Task RemoveAsync(LifecycleContext work, IReadOnlyList<EligibilityToRemove> removals, Guid? expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(removals);
        if (removals.Count == 0)
        {
            return;
        }

        var db = work.Db;
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("Eligibilities are removed inside the caller's transaction, so the removal commits with its audit events.");
        }

        var ids = removals.Select(r => r.Id).ToList();
        var (removedAt, removedBy, version) = RoleEligibility.Removal(work.Now, work.By);
        var removed = await db.Eligibilities.Where(RoleEligibility.Removable)
            .Where(e => ids.Contains(e.Id) && (expectedVersion == null || e.Version == expectedVersion))
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.RemovedAt, removedAt).SetProperty(e => e.RemovedBy, removedBy).SetProperty(e => e.Version, version), cancellationToken);
        if (removed != ids.Count)
        {
            throw new DbUpdateConcurrencyException($"{ids.Count - removed} of {ids.Count} eligibilities were removed or changed at the same moment.");
        }

        // One event each, written in bulk: a review's application removes thousands in a transaction.
        await AuditBulkWriter.InsertAsync(db, [.. removals.Select(removal => work.AuditEventOf(AuditActions.EligibilityRemoved, "eligibility", removal.Id.ToString(), AuditOutcome.Success,
            removal.Review is null
                ? new { role = removal.RoleName, scope = removal.Scope, justification = removal.Justification }
                : (object)new { role = removal.RoleName, scope = removal.Scope, justification = removal.Justification, review = removal.Review },
            removal.PrincipalId, removal.RoleId))], cancellationToken);

        // Requests made from them that wait for approval or their start can no longer be carried out: they lapse now,
        // rather than sit in the approvers' queues.
        var waiting = await db.ActivationRequests.Where(ActivationRequest.Waiting).Where(r => ids.Contains(r.EligibilityId)).ToListAsync(cancellationToken);
        var roles = removals.ToDictionary(r => r.Id, r => r.RoleName);
        await lapses.LapseAsync(work, waiting, "the eligibility was removed", "The eligibility it was made from was removed.", r => roles[r.EligibilityId], cancellationToken);

        // Activations made from them end now (the expiry worker revokes them); a group's members see it on their pages.
        var principals = removals.Select(r => r.PrincipalId).Distinct().ToList();
        var members = await db.GroupMemberships.AsNoTracking().Where(m => principals.Contains(m.GroupId)).Select(m => m.MemberId).ToListAsync(cancellationToken);
        work.Announce.WakeExpiry();
        work.Announce.RolesOf([.. principals, .. members]);
    }
}

/// <summary>One eligibility to remove, what its audit event says, and (for an access review's denial) the decision that removed it.</summary>
public sealed record EligibilityToRemove(Guid Id, Guid PrincipalId, Guid RoleId, string RoleName, string Scope, string? Justification, object? Review = null)
{
    public static EligibilityToRemove Of(RoleEligibility eligibility, string roleName, string? justification, object? review = null)
    {
        ArgumentNullException.ThrowIfNull(eligibility);
        return new(eligibility.Id, eligibility.PrincipalId, eligibility.RoleId, roleName, eligibility.Scope, justification, review);
    }
}
