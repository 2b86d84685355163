using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Directory.Local;

/// <summary>
/// The embedded directory: the portal's own table of who holds which role now. A batch is one transaction: the changes
/// are applied in order to the grants' current state, and only the end result is written (removals in one statement).
/// Assignments are unique per activation id, so writing one twice leaves one.
/// </summary>
public sealed class LocalDirectoryGateway(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time) : IDirectoryGateway
{
    public async Task<IReadOnlyList<DirectoryChangeResult>> ApplyAsync(IReadOnlyList<DirectoryChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.Count == 0)
        {
            return [];
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = changes.Select(c => c.Grant.ActivationId).Distinct().ToList();
        var existing = await db.DirectoryAssignments
            .Where(a => a.ActivationId != null && ids.Contains(a.ActivationId.Value))
            .ToDictionaryAsync(a => a.ActivationId!.Value, cancellationToken);
        var now = time.GetUtcNow();

        // Applied in order, so "assign then remove" of one grant in one batch ends removed.
        var held = new Dictionary<Guid, DirectoryAssignment?>(existing.Select(e => KeyValuePair.Create(e.Key, (DirectoryAssignment?)e.Value)));
        var extendedBeforeAssigned = new HashSet<DirectoryChange>(ReferenceEqualityComparer.Instance);
        foreach (var change in changes)
        {
            var grant = change.Grant;
            held.TryGetValue(grant.ActivationId, out var assignment);
            switch (change.Kind)
            {
                case DirectoryChangeKind.Assign when assignment is null:
                    held[grant.ActivationId] = new DirectoryAssignment(Guid.NewGuid(), grant.PrincipalId, grant.RoleId, grant.Scope, grant.ActivationId, now, grant.End);
                    break;
                case DirectoryChangeKind.Extend when assignment is null:
                    extendedBeforeAssigned.Add(change);
                    break;
                case DirectoryChangeKind.Extend:
                    assignment.ExtendTo(grant.End);
                    break;
                case DirectoryChangeKind.Remove:
                    held[grant.ActivationId] = null;
                    break;
                default:
                    break;
            }
        }

        var removed = existing.Keys.Where(id => held[id] is null).ToList();

        // A removal for a grant the portal never made (an administrator turning a standing assignment into an
        // eligibility) removes the standing assignment itself.
        var removals = changes.Where(c => c.Kind == DirectoryChangeKind.Remove && !existing.ContainsKey(c.Grant.ActivationId)).Select(c => c.Grant).ToList();
        var grantIds = removals.Select(g => g.ActivationId).ToList();
        var portalGrants = grantIds.Count == 0 ? [] : await db.Activations.Where(a => grantIds.Contains(a.Id)).Select(a => a.Id).ToListAsync(cancellationToken);
        foreach (var grant in removals.Where(g => !portalGrants.Contains(g.ActivationId)))
        {
            db.DirectoryAssignments.RemoveRange(await db.DirectoryAssignments
                .Where(a => a.ActivationId == null && a.PrincipalId == grant.PrincipalId && a.RoleId == grant.RoleId && a.Scope == grant.Scope)
                .ToListAsync(cancellationToken));
        }
        db.DirectoryAssignments.AddRange(held.Where(h => h.Value is not null && !existing.ContainsKey(h.Key)).Select(h => h.Value!));
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (removed.Count > 0)
            {
                await db.DirectoryAssignments.Where(a => a.ActivationId != null && removed.Contains(a.ActivationId.Value)).ExecuteDeleteAsync(cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            // Another writer touched the same grants meanwhile; the next attempt will see what it did.
            return [.. changes.Select(c => new DirectoryChangeResult(c, DirectoryChangeOutcome.RetryLater, ex.InnerException?.Message ?? ex.Message))];
        }

        return [.. changes.Select(c => extendedBeforeAssigned.Contains(c)
            ? new DirectoryChangeResult(c, DirectoryChangeOutcome.RetryLater, "The assignment to extend does not exist yet.")
            : DirectoryChangeResult.Done(c))];
    }

    public async Task<IReadOnlyList<DirectoryHolder>> ListHoldersAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await (
                from a in db.DirectoryAssignments.AsNoTracking()
                join p in db.Principals on a.PrincipalId equals p.Id
                join r in db.PrivilegedRoles on a.RoleId equals r.Id
                select new DirectoryHolder(a.PrincipalId, p.DisplayName, a.RoleId, r.DisplayName, r.Kind, a.Scope, a.AssignedAt, a.ExpiresAt, a.ActivationId))
            .ToListAsync(cancellationToken);
        return [.. rows.OrderBy(h => h.RoleName, StringComparer.Ordinal).ThenBy(h => h.PrincipalName, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<DirectoryPrincipal>> ReadPrincipalsAsync(IReadOnlyList<(Guid Id, PrincipalKind Kind)> principals, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principals);
        var ids = principals.Select(p => p.Id).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.Principals.AsNoTracking().Where(p => ids.Contains(p.Id)).ToListAsync(cancellationToken);
        var members = await db.GroupMemberships.AsNoTracking().Where(m => ids.Contains(m.GroupId)).ToListAsync(cancellationToken);

        // The embedded directory is the portal's own tables: it says what they say.
        return [.. rows.Select(p => new DirectoryPrincipal(p.Id, p.Kind, p.DisplayName, p.UserPrincipalName, p.IsEnabled, p.ManagerId,
            [.. members.Where(m => m.GroupId == p.Id).Select(m => m.MemberId)]))];
    }

    /// <summary>
    /// The embedded directory's only sign-ins are the portal's own, which raise the break-glass alarm as they happen;
    /// there is no other log to read.
    /// </summary>
    public Task<IReadOnlyList<DirectorySignIn>?> ReadSignInsAsync(Guid userId, DateTimeOffset after, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DirectorySignIn>?>([]);
}
