using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Who may approve a role's requests: the users named in its settings and the members of the (enabled) groups named there —
/// read from the database at the moment it matters, so an approver taken off the list (or out of the group) counts
/// no more.
/// </summary>
internal static class Approvers
{
    /// <summary>The roles whose requests <paramref name="userId"/> may decide, directly or through a group.</summary>
    public static IQueryable<Guid> RolesApprovedBy(PimDbContext db, Guid userId)
    {
        var groups = db.EnabledGroupsOf(userId);
        return db.RoleApprovers.Where(a => a.PrincipalId == userId || groups.Contains(a.PrincipalId)).Select(a => a.RoleId);
    }

    /// <summary>The enabled users who may decide requests for <paramref name="roleId"/>.</summary>
    public static IQueryable<Principal> UsersOf(PimDbContext db, Guid roleId) =>
        db.Principals.Where(p => p.Kind == PrincipalKind.User && p.IsEnabled
            && db.RoleApprovers.Any(a => a.RoleId == roleId
                && (a.PrincipalId == p.Id || (db.GroupMemberships.Any(m => m.GroupId == a.PrincipalId && m.MemberId == p.Id)
                    && db.Principals.Any(g => g.Id == a.PrincipalId && g.IsEnabled)))));

    /// <summary>
    /// For each role: the approvers as the requester sees them (users by name, groups as "Name (group)") and how many
    /// enabled users other than <paramref name="requesterId"/> could approve.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Guid, (IReadOnlyList<string> Names, int Available)>> DescribeAsync(
        PimDbContext db, IReadOnlyCollection<Guid> roleIds, Guid requesterId, CancellationToken cancellationToken)
    {
        var named = await (
                from a in db.RoleApprovers.AsNoTracking()
                where roleIds.Contains(a.RoleId)
                join p in db.Principals on a.PrincipalId equals p.Id
                select new { a.RoleId, p.Id, p.Kind, p.DisplayName, p.IsEnabled })
            .ToListAsync(cancellationToken);
        var groupIds = named.Where(n => n.Kind == PrincipalKind.Group).Select(n => n.Id).Distinct().ToList();
        var members = groupIds.Count == 0
            ? []
            : await (
                    from m in db.GroupMemberships.AsNoTracking()
                    where groupIds.Contains(m.GroupId)
                    join p in db.Principals on m.MemberId equals p.Id
                    where p.IsEnabled && p.Kind == PrincipalKind.User
                    select new { m.GroupId, p.Id })
                .ToListAsync(cancellationToken);

        var result = new Dictionary<Guid, (IReadOnlyList<string>, int)>();
        foreach (var roleId in roleIds.Distinct())
        {
            var ofRole = named.Where(n => n.RoleId == roleId && n.IsEnabled && n.Id != requesterId).ToList();
            var names = ofRole.Select(n => n.Kind == PrincipalKind.Group ? $"{n.DisplayName} (group)" : n.DisplayName)
                .Order(StringComparer.Ordinal).ToList();
            var users = ofRole.Where(n => n.Kind == PrincipalKind.User).Select(n => n.Id)
                .Concat(members.Where(m => ofRole.Exists(n => n.Id == m.GroupId)).Select(m => m.Id))
                .Where(id => id != requesterId)
                .Distinct()
                .Count();
            result[roleId] = (names, users);
        }

        return result;
    }
}
