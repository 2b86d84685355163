using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// What the claimed messages are about: their grants, or their standing removals (with roles and alerts) — and which
/// of those removals must wait, because a grant of the portal holds the same role at the same scope.
/// </summary>
internal sealed record OutboxTargets(
    IReadOnlyDictionary<Guid, RoleActivation> Activations,
    IReadOnlyDictionary<Guid, StandingRemoval> Removals,
    IReadOnlyDictionary<Guid, PrivilegedRole> Roles,
    IReadOnlyDictionary<Guid, DriftFinding> Findings,
    IReadOnlySet<Guid> Held)
{
    public static async Task<OutboxTargets> LoadAsync(PimDbContext db, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var standing = messages.Where(m => m.Type == OutboxMessageType.RemoveStandingAssignment).Select(m => m.TargetId).Distinct().ToList();
        var grants = messages.Where(m => m.Type != OutboxMessageType.RemoveStandingAssignment).Select(m => m.TargetId).Distinct().ToList();
        var activations = grants.Count == 0 ? [] : await db.Activations.Include(a => a.Role).Where(a => grants.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
        if (standing.Count == 0)
        {
            return new OutboxTargets(activations, new Dictionary<Guid, StandingRemoval>(), new Dictionary<Guid, PrivilegedRole>(), new Dictionary<Guid, DriftFinding>(), new HashSet<Guid>());
        }

        var removals = await db.StandingRemovals.Where(r => standing.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        var roleIds = removals.Values.Select(r => r.RoleId).Distinct().ToList();
        var findingIds = removals.Values.Where(r => r.FindingId != null).Select(r => r.FindingId!.Value).ToList();
        var principalIds = removals.Values.Select(r => r.PrincipalId).Distinct().ToList();
        var holding = await db.Activations.AsNoTracking()
            .Where(a => principalIds.Contains(a.PrincipalId) && a.RemovedFromDirectoryAt == null && a.Status != ActivationStatus.Failed)
            .Select(a => new { a.PrincipalId, a.RoleId, a.Scope })
            .ToListAsync(cancellationToken);
        var held = removals.Values.Where(r => holding.Exists(g => g.PrincipalId == r.PrincipalId && g.RoleId == r.RoleId && g.Scope == r.Scope)).Select(r => r.Id).ToHashSet();
        return new OutboxTargets(
            activations,
            removals,
            await db.PrivilegedRoles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken),
            await db.DriftFindings.Where(f => findingIds.Contains(f.Id)).ToDictionaryAsync(f => f.Id, cancellationToken),
            held);
    }

    /// <summary>The ended grants this batch removes already.</summary>
    private readonly HashSet<Guid> removing = [];

    /// <summary>
    /// What a message asks of the directory now. A grant that ended before (or while) it was written is removed
    /// rather than assigned — removal is idempotent — so a late or repeated provisioning can never leave a role
    /// behind, and it is removed once; nothing removes a grant that is still open; a standing removal already done
    /// asks nothing.
    /// </summary>
    public DirectoryChange? ToChange(OutboxMessage message, DateTimeOffset now)
    {
        if (message.Type == OutboxMessageType.RemoveStandingAssignment)
        {
            return Removals.TryGetValue(message.TargetId, out var removal) && removal.Status == StandingRemovalStatus.Pending && !Held.Contains(removal.Id)
                ? StandingAccess.ToChange(removal, Roles[removal.RoleId], now)
                : null;
        }

        if (!Activations.TryGetValue(message.TargetId, out var activation))
        {
            return null;
        }

        if (!activation.IsOpen && (activation.RemovedFromDirectoryAt is not null || !removing.Add(activation.Id)))
        {
            // An ended grant leaves the directory once: its provisioning and its removal may both still be owed
            // (it ended before the directory took it, e.g. across a crash); the first of them removes it.
            return null;
        }

        var grant = new DirectoryGrant(activation.Id, activation.PrincipalId, activation.RoleId, activation.Role.Kind, activation.Role.ExternalId, activation.Scope, activation.NotBefore, activation.NotAfter);
        return (message.Type, activation.IsOpen) switch
        {
            (OutboxMessageType.ProvisionGrant, true) => new DirectoryChange(DirectoryChangeKind.Assign, grant),
            (OutboxMessageType.ProvisionGrant, false) => new DirectoryChange(DirectoryChangeKind.Remove, grant),
            (OutboxMessageType.ExtendGrant, true) => new DirectoryChange(DirectoryChangeKind.Extend, grant),
            (OutboxMessageType.RemoveGrant, false) => new DirectoryChange(DirectoryChangeKind.Remove, grant),
            _ => null,
        };
    }
}
