using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>
/// Opens each run of an access review when it is due — exactly once, whichever portal instance gets there first (the
/// instance row is unique per definition and run): the instance, its lines, its audit event and the reviewers' notices
/// in one transaction. A run whose whole window passed while no portal instance ran is recorded as missed, not opened late.
/// </summary>
public sealed partial class ReviewOpening(
    IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, ReviewerNotices notices, Announcer announcer, ILogger<ReviewOpening> logger)
{
    /// <summary>Opens every instance due by now that is not open yet; returns how many this call opened.</summary>
    public async Task<int> OpenDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<AccessReviewDefinition> definitions;
        Dictionary<Guid, int> opened;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            // The lines' SQL reads the roles and the worker the reviewers from their tables: the definition alone is enough.
            definitions = await db.AccessReviewDefinitions.AsNoTracking().Where(d => d.StoppedAt == null && d.Start <= now).ToListAsync(cancellationToken);
            opened = await db.AccessReviewInstances.AsNoTracking().GroupBy(i => i.DefinitionId)
                .Select(g => new { g.Key, Next = g.Max(i => i.Run) + 1 }).ToDictionaryAsync(g => g.Key, g => g.Next, cancellationToken);
        }

        var count = 0;
        foreach (var definition in definitions)
        {
            try
            {
                foreach (var run in definition.Schedule.DueRuns(opened.GetValueOrDefault(definition.Id), now).ToList())
                {
                    if (await OpenAsync(definition, run, cancellationToken))
                    {
                        count++;
                    }
                }
            }
#pragma warning disable CA1031 // One review that cannot open (its next pass tries again) must not keep the others closed.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                LogOpenFailed(logger, ex, definition.Name);
            }
        }

        return count;
    }

    /// <summary>
    /// Opens run <paramref name="run"/>: the instance row, its lines and its audit event in one transaction. False when
    /// another portal instance opened it first (the unique key refuses the second row).
    /// </summary>
    private async Task<bool> OpenAsync(AccessReviewDefinition definition, int run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var starts = definition.Schedule.StartOf(run)!.Value;
        var ends = definition.Schedule.EndOf(run)!.Value;

        // A run whose whole window passed while no portal instance ran is recorded as missed, not opened late.
        var missed = ends <= now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var instance = new AccessReviewInstance(Guid.NewGuid(), definition.Id, run, starts, ends, missed ? ReviewInstanceStatus.Missed : ReviewInstanceStatus.Active);
        db.AccessReviewInstances.Add(instance);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            return false;
        }

        var work = LifecycleContext.System(db, now);
        if (missed)
        {
            work.Audit(AuditActions.ReviewMissed, "review-instance", instance.Id.ToString(), AuditOutcome.Failed,
                new { review = definition.Name, reviewId = definition.Id, run = run + 1, startsAt = starts, endsAt = ends, reason = "the portal did not run during the whole review period" });
        }
        else
        {
            instance.Opened(await ReviewLines.InsertAsync(db, definition, instance, now, cancellationToken));
            work.Audit(AuditActions.ReviewOpened, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
                new { review = definition.Name, reviewId = definition.Id, run = run + 1, startsAt = starts, endsAt = ends, lines = instance.ItemCount });
            await notices.TellAsync(work, definition, instance, NotificationKind.ReviewAssigned, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogOpened(logger, definition.Name, run + 1, instance.ItemCount, instance.Status);
        work.Announce.ReviewRunsChanged();
        announcer.Announce(work.Announce);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Access review {Review} could not open its run; the next pass tries again")]
    private static partial void LogOpenFailed(ILogger logger, Exception exception, string review);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access review {Review} run {Run}: {Lines} lines, {Status}")]
    private static partial void LogOpened(ILogger logger, string review, int run, int lines, ReviewInstanceStatus status);
}
