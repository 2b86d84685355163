using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Settings;

/// <summary>How many hold each role: valid eligibilities (and how many of them end by a moment) and open grants.</summary>
internal sealed record RoleTally(int Eligible, int EndingSoon, int Active);

/// <summary>
/// Counts per role for the role list and the dashboard: one grouped pass over the eligibilities and one over the open
/// grants (a large tenant has 100,000 eligibilities), never a count per role.
/// </summary>
internal static class RoleCounts
{
    /// <summary>Per role id; <paramref name="endingBy"/> is when "ending soon" ends (now: none counted).</summary>
    public static async Task<IReadOnlyDictionary<Guid, RoleTally>> ReadAsync(PimDbContext db, DateTimeOffset now, DateTimeOffset endingBy, CancellationToken cancellationToken)
    {
        var eligible = await db.Eligibilities.AsNoTracking()
            .Where(RoleEligibility.Current.At(now))
            .GroupBy(e => e.RoleId)
            .Select(g => new { RoleId = g.Key, Count = g.Count(), EndingSoon = g.Count(e => e.NotAfter != null && e.NotAfter <= endingBy) })
            .ToListAsync(cancellationToken);
        var active = await db.Activations.AsNoTracking()
            .Where(RoleActivation.Open)
            .GroupBy(a => a.RoleId)
            .Select(g => new { RoleId = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.RoleId, g => g.Count, cancellationToken);
        return eligible.Select(e => e.RoleId).Union(active.Keys).ToDictionary(
            id => id,
            id => eligible.Find(e => e.RoleId == id) is { } e ? new RoleTally(e.Count, e.EndingSoon, active.GetValueOrDefault(id)) : new RoleTally(0, 0, active.GetValueOrDefault(id)));
    }

    public static RoleTally Of(this IReadOnlyDictionary<Guid, RoleTally> tallies, Guid roleId) =>
        tallies.TryGetValue(roleId, out var tally) ? tally : new RoleTally(0, 0, 0);
}
