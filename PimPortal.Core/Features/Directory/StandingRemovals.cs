using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// After a conversion commits, its standing removals are delivered at once through the outbox, so the administrator
/// learns how the directory answered; what it did not do yet, the outbox worker retries.
/// </summary>
internal static class StandingRemovals
{
    /// <summary>What a conversion says of a removal the outbox worker holds (it was taken before this command could).</summary>
    public const string Queued = "The removal is queued; the outbox removes it from the directory and retries until it is gone.";

    /// <summary>
    /// How the directory answered each removal delivered now, by removal id; what it asked to try again later wakes the
    /// outbox worker (through <paramref name="after"/>), so it sleeps until that retry is due.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Guid, (bool Removed, string? Error)>> DeliverNowAsync(
        PimDbContext db, OutboxProcessor outbox, IReadOnlyCollection<Guid> removalIds, Announcements after)
    {
        var ids = removalIds.ToList();
        var messages = await db.Outbox.AsNoTracking()
            .Where(m => m.Type == OutboxMessageType.RemoveStandingAssignment && ids.Contains(m.TargetId) && m.ProcessedAt == null)
            .Select(m => new { m.Id, m.TargetId }).ToListAsync(CancellationToken.None);

        // Runs to the end once the conversion is committed: a closed page does not cancel it.
        var results = await outbox.DeliverNowAsync([.. messages.Select(m => m.Id)], CancellationToken.None);
        if (results.Values.Any(r => r.Outcome == DirectoryChangeOutcome.RetryLater))
        {
            after.WakeOutbox();
        }

        return messages.Where(m => results.ContainsKey(m.Id)).ToDictionary(m => m.TargetId, m => results[m.Id] switch
        {
            { Outcome: DirectoryChangeOutcome.Done } => (true, (string?)null),
            { Outcome: DirectoryChangeOutcome.RetryLater } failed => (false, $"{failed.Error ?? "The directory did not answer"}; the outbox tries again."),
            var refused => (false, refused.Error ?? "The directory refused the removal."),
        });
    }
}
