using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Turns standing access into just-in-time access, for the drift alert's "Make eligible instead" and the rollout
/// alike: the holder becomes eligible (unless they already are), and the removal of the standing assignment is
/// recorded — a <see cref="StandingRemoval"/> and its outbox message — in the same transaction, audited. The outbox
/// removes it from the directory after the commit, with its retries, and <see cref="RecordOutcome"/> records how it went.
/// </summary>
public static class StandingAccess
{
    /// <summary>One standing assignment to convert.</summary>
    public sealed record Holder(Guid PrincipalId, PrivilegedRole Role, string Scope, DateTimeOffset Since, DriftFinding? Finding);

    /// <summary>
    /// Refuses to convert what an activation of the portal holds now (a grant of the portal is not standing access,
    /// and removing the assignment would take the grant away).
    /// </summary>
    public static async Task RefuseIfActivatedAsync(LifecycleContext work, Guid principalId, Guid roleId, string scope, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (await work.Db.Activations.AnyAsync(a => a.PrincipalId == principalId && a.RoleId == roleId && a.Scope == scope
                && a.RemovedFromDirectoryAt == null && a.Status != ActivationStatus.Failed, cancellationToken))
        {
            throw new RefusedException("An activation of the portal holds this role now; convert it after it has ended and been removed.");
        }
    }

    /// <summary>
    /// Makes the holder eligible (until <paramref name="until"/>; null: permanent, or the longest the role's rules allow)
    /// unless they already are, and records the removal of the standing assignment for the outbox; audited as
    /// <paramref name="source"/>'s conversion. The caller saves, then may deliver the removal at once.
    /// </summary>
    public static async Task<(RoleEligibility Eligibility, StandingRemoval Removal)> ConvertAsync(
        LifecycleContext work, Holder holder, StandingRemovalSource source, DateTimeOffset? until, string? justification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(holder);
        if (await work.Db.StandingRemovals.AnyAsync(r => r.PrincipalId == holder.PrincipalId && r.RoleId == holder.Role.Id && r.Scope == holder.Scope
                && r.Status == StandingRemovalStatus.Pending, cancellationToken))
        {
            throw new RefusedException("This standing assignment is being removed already; the Directory page shows how it is going.");
        }

        var eligibility = await EnsureEligibleAsync(work, holder, until, justification,
            source == StandingRemovalSource.Rollout ? "rollout from standing access" : "converted from a standing assignment", cancellationToken);
        var removal = new StandingRemoval(Guid.NewGuid(), source, holder.PrincipalId, holder.Role.Id, holder.Scope, holder.Since, eligibility.Id, holder.Finding?.Id,
            justification, work.Actor.PrincipalId, work.Actor.DisplayName, work.Now);
        work.Db.StandingRemovals.Add(removal);
        work.Db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.RemoveStandingAssignment, removal.Id, work.Now));
        if (source == StandingRemovalSource.Rollout)
        {
            work.Audit(AuditActions.RolloutConverted, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                new { role = holder.Role.DisplayName, scope = holder.Scope, removal = removal.Id, justification }, holder.PrincipalId, holder.Role.Id);
        }
        else
        {
            work.Audit(AuditActions.DriftConverted, "drift", holder.Finding?.Id.ToString() ?? removal.Id.ToString(), AuditOutcome.Success,
                new { role = holder.Role.DisplayName, eligibility = eligibility.Id, removal = removal.Id, justification }, holder.PrincipalId, holder.Role.Id);
        }

        // The outbox is not woken: the conversion delivers its removals at once (after its commit), and wakes the worker
        // for what the directory did not do yet — woken first, the worker would take them and leave the administrator
        // without an answer.
        work.Announce.RolesOf(holder.PrincipalId);
        return (eligibility, removal);
    }

    /// <summary>What the outbox asks of the directory for <paramref name="removal"/>: the standing assignment gone, keyed by the removal.</summary>
    public static DirectoryChange ToChange(StandingRemoval removal, PrivilegedRole role, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(removal);
        ArgumentNullException.ThrowIfNull(role);
        return new DirectoryChange(DirectoryChangeKind.Remove,
            new DirectoryGrant(removal.Id, removal.PrincipalId, role.Id, role.Kind, role.ExternalId, removal.Scope, removal.Since, now));
    }

    /// <summary>
    /// Records how the removal ended — in the name of the administrator who asked for it: gone (and the alert it came
    /// from resolved), or given up with the directory's error. A retry is the outbox's own business.
    /// </summary>
    public static void RecordOutcome(LifecycleContext work, StandingRemoval removal, PrivilegedRole role, DriftFinding? finding, string? error)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(removal);
        ArgumentNullException.ThrowIfNull(role);
        var requester = work.As(new Actor(removal.RequestedBy, removal.RequestedByName, new HashSet<string>()));
        var details = new { role = role.DisplayName, scope = removal.Scope, source = removal.Source.ToString(), eligibility = removal.EligibilityId, error };
        if (error is null)
        {
            removal.Removed(work.Now);
            requester.Audit(AuditActions.StandingRemoved, "standing-removal", removal.Id.ToString(), AuditOutcome.Success, details, removal.PrincipalId, removal.RoleId);
            if (finding is { IsOpen: true })
            {
                var resolution = $"converted to an eligibility by {removal.RequestedByName}{(removal.Source == StandingRemovalSource.Rollout ? " (rollout)" : "")}";
                finding.Resolve(work.Now, resolution);
                requester.Audit(AuditActions.DriftResolved, "drift", finding.Id.ToString(), AuditOutcome.Success,
                    new { role = role.DisplayName, eligibility = removal.EligibilityId, reason = resolution }, finding.PrincipalId, finding.RoleId);
                work.Announce.AlertsChanged();
            }
        }
        else
        {
            removal.Failed(error, work.Now);
            requester.Audit(AuditActions.StandingRemovalFailed, "standing-removal", removal.Id.ToString(), AuditOutcome.Failed, details, removal.PrincipalId, removal.RoleId);
        }

        work.Announce.RolesOf(removal.PrincipalId);
    }

    /// <summary>The holder's current eligibility for the role, or a new one (audited with <paramref name="source"/>).</summary>
    private static async Task<RoleEligibility> EnsureEligibleAsync(
        LifecycleContext work, Holder holder, DateTimeOffset? until, string? justification, string source, CancellationToken cancellationToken)
    {
        var now = work.Now;
        var existing = await work.Db.Eligibilities.Where(RoleEligibility.Current.At(now))
            .FirstOrDefaultAsync(e => e.PrincipalId == holder.PrincipalId && e.RoleId == holder.Role.Id && e.Scope == holder.Scope, cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        await EligibilityEnds.RecordForAsync(work, holder.PrincipalId, holder.Role.Id, holder.Scope, cancellationToken);
        var end = until ?? holder.Role.Settings.LatestEnd(active: false, now);
        holder.Role.Settings.CheckAssignmentWindow(active: false, now, end);
        var eligibility = new RoleEligibility(Guid.NewGuid(), holder.PrincipalId, holder.Role.Id, holder.Scope, now, end, work.Actor.PrincipalId, now);
        work.Db.Eligibilities.Add(eligibility);
        work.Audit(AuditActions.EligibilityCreated, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            new { role = holder.Role.DisplayName, scope = holder.Scope, notAfter = end, justification, source }, holder.PrincipalId, holder.Role.Id);
        return eligibility;
    }
}
