using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>How an instance's lines were decided.</summary>
public sealed record ReviewTally(int Approved, int Denied, int DontKnow, int NotReviewed)
{
    public int Decided => Approved + Denied + DontKnow;

    public int Total => Decided + NotReviewed;
}

/// <summary>How a run stands: its tally, and of its denials how many applying has done (removed, or found already gone).</summary>
public sealed record ReviewRunCounts(ReviewTally Tally, int Removed, int Applied);

/// <summary>How runs stand, in one grouped read.</summary>
internal static class ReviewCounts
{
    public static async Task<Dictionary<Guid, ReviewRunCounts>> ReadAsync(PimDbContext db, IReadOnlyCollection<Guid> instanceIds, CancellationToken cancellationToken)
    {
        var ids = instanceIds.ToList();
        var counts = await db.AccessReviewItems.AsNoTracking().Where(i => ids.Contains(i.InstanceId))
            .GroupBy(i => new { i.InstanceId, i.Decision, i.Outcome })
            .Select(g => new { g.Key.InstanceId, g.Key.Decision, g.Key.Outcome, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return ids.ToDictionary(id => id, id =>
        {
            var of = counts.Where(c => c.InstanceId == id).ToList();
            int Count(ReviewDecision decision) => of.Where(c => c.Decision == decision).Sum(c => c.Count);
            return new ReviewRunCounts(
                new ReviewTally(Count(ReviewDecision.Approve), Count(ReviewDecision.Deny), Count(ReviewDecision.DontKnow), Count(ReviewDecision.None)),
                of.Where(c => c.Outcome == ReviewLineOutcomes.Removed).Sum(c => c.Count),
                of.Where(c => c.Outcome != null).Sum(c => c.Count));
        });
    }
}
