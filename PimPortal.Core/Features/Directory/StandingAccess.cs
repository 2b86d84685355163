using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// Turns standing access into just-in-time access, for the drift alert's "Make eligible instead" and the rollout
/// alike: the holder becomes eligible (unless they already are), and the standing assignment is removed from the
/// directory. Eligibility and audit are written first, in the caller's transaction; the removal follows.
/// </summary>
internal static class StandingAccess
{
    /// <summary>One standing assignment to convert; <paramref name="RemovalKey"/> keys the directory removal.</summary>
    public sealed record Holder(Guid RemovalKey, Guid PrincipalId, PrivilegedRole Role, string Scope, DateTimeOffset Since);

    /// <summary>
    /// Refuses to convert what an activation of the portal holds now (a grant of the portal is not standing access,
    /// and removing the assignment would take the grant away).
    /// </summary>
    public static async Task RefuseIfActivatedAsync(PimDbContext db, Guid principalId, Guid roleId, string scope, CancellationToken cancellationToken)
    {
        if (await db.Activations.AnyAsync(a => a.PrincipalId == principalId && a.RoleId == roleId && a.Scope == scope
                && a.RemovedFromDirectoryAt == null && a.Status != ActivationStatus.Failed, cancellationToken))
        {
            throw new RefusedException("An activation of the portal holds this role now; convert it after it has ended and been removed.");
        }
    }

    /// <summary>
    /// The holder's valid eligibility for the role, or a new one until <paramref name="until"/> (null: permanent, or the
    /// longest the role's rules allow), audited with <paramref name="source"/>.
    /// </summary>
    public static async Task<RoleEligibility> EnsureEligibleAsync(
        PimDbContext db, RequestContext context, Holder holder, DateTimeOffset? until, string? justification, string source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var existing = await db.Eligibilities.FirstOrDefaultAsync(e => e.PrincipalId == holder.PrincipalId && e.RoleId == holder.Role.Id && e.Scope == holder.Scope
            && e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now), cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        await Assignments.AssignmentRules.RecordEndedAsync(db, holder.PrincipalId, holder.Role.Id, holder.Scope, now, cancellationToken);
        var end = until ?? holder.Role.Settings.LatestEnd(active: false, now);
        holder.Role.Settings.CheckAssignmentWindow(active: false, now, end);
        var eligibility = new RoleEligibility(Guid.NewGuid(), holder.PrincipalId, holder.Role.Id, holder.Scope, now, end, context.Actor.PrincipalId, now);
        db.Eligibilities.Add(eligibility);
        db.AuditEvents.Add(context.Audit(now, AuditActions.EligibilityCreated, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            new { role = holder.Role.DisplayName, scope = holder.Scope, notAfter = end, justification = justification?.Trim(), source },
            holder.PrincipalId, holder.Role.Id));
        return eligibility;
    }

    /// <summary>
    /// Removes the standing assignments from the directory in one batch; returns each one's result, in order. Runs to
    /// the end once the eligibilities are committed (a closed page does not cancel it), and a directory that fails
    /// outright gives every change a failed result — which the caller audits — rather than an exception.
    /// </summary>
    public static async Task<IReadOnlyList<DirectoryChangeResult>> RemoveAsync(IDirectoryGateway gateway, IReadOnlyList<Holder> holders, DateTimeOffset now)
    {
        var changes = holders.Select(h => new DirectoryChange(DirectoryChangeKind.Remove,
            new DirectoryGrant(h.RemovalKey, h.PrincipalId, h.Role.Id, h.Role.Kind, h.Role.ExternalId, h.Scope, h.Since, now))).ToList();
        if (changes.Count == 0)
        {
            return [];
        }

        try
        {
            return await gateway.ApplyAsync(changes, CancellationToken.None);
        }
#pragma warning disable CA1031 // Whatever the directory threw, each removal is recorded as failed (and its alert stays open).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return [.. changes.Select(c => new DirectoryChangeResult(c, DirectoryChangeOutcome.RetryLater, ex.Message))];
        }
    }
}
