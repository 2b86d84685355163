using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>
/// Closes an access review's instance — at its end (the worker), or early (a governance lead's "End now"): the default
/// decision for the lines nobody decided, and its audit event with the tally, in one transaction.
/// </summary>
public sealed partial class ReviewCompletion(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Announcer announcer, ILogger<ReviewCompletion> logger)
{
    /// <summary>Closes every open instance whose end has passed; returns how many this call closed.</summary>
    public async Task<int> CompleteEndedAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<Guid> ended;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            ended = await db.AccessReviewInstances.AsNoTracking().Where(i => i.Status == ReviewInstanceStatus.Active && i.EndsAt <= now)
                .Select(i => i.Id).ToListAsync(cancellationToken);
        }

        var count = 0;
        foreach (var id in ended)
        {
            if (await CompleteAsync(id, Actor.System, ClientInfo.Unknown, null, cancellationToken))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// Closes the instance in <paramref name="actor"/>'s name (<paramref name="endedEarlyBecause"/>: why before its end).
    /// False when it was not open (ended already, or another portal instance closed it at the same moment).
    /// </summary>
    public async Task<bool> CompleteAsync(Guid instanceId, Actor actor, ClientInfo client, string? endedEarlyBecause, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == instanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        if (instance.Status != ReviewInstanceStatus.Active)
        {
            return false;
        }

        var work = new LifecycleContext(db, actor, client, now);
        instance.Complete(now);
        var definition = instance.Definition;
        var undecided = db.AccessReviewItems.Where(i => i.InstanceId == instance.Id && i.Decision == ReviewDecision.None);
        var defaulted = definition.DefaultDecision switch
        {
            ReviewDefaultDecision.Approve => await DefaultAsync(undecided, ReviewDecision.Approve, "No decision by the end: approved by default.", now, cancellationToken),
            ReviewDefaultDecision.Remove => await DefaultAsync(undecided, ReviewDecision.Deny, "No decision by the end: removed by default.", now, cancellationToken),
            ReviewDefaultDecision.Recommendation =>
                await DefaultAsync(undecided.Where(i => i.Recommendation == ReviewDecision.Deny), ReviewDecision.Deny, "No decision by the end: the recommendation (remove) was taken.", now, cancellationToken)
                + await DefaultAsync(undecided.Where(i => i.Recommendation == ReviewDecision.Approve), ReviewDecision.Approve, "No decision by the end: the recommendation (approve) was taken.", now, cancellationToken),
            _ => 0,
        };
        var tally = (await ReviewCounts.ReadAsync(db, [instance.Id], cancellationToken))[instance.Id].Tally;
        work.Audit(AuditActions.ReviewCompleted, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
            new
            {
                review = definition.Name, run = instance.Run + 1, lines = instance.ItemCount, byDefault = defaulted, defaultDecision = definition.DefaultDecision.ToString(),
                approved = tally.Approved, denied = tally.Denied, dontKnow = tally.DontKnow, notReviewed = tally.NotReviewed, endedEarly = endedEarlyBecause,
            });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return false;
        }

        await transaction.CommitAsync(cancellationToken);
        LogCompleted(logger, definition.Name, instance.Run + 1, defaulted);

        // A review that applies itself is applied by the worker's next pass, woken now.
        work.Announce.ReviewRunsChanged();
        work.Announce.WakeReviews();
        announcer.Announce(work.Announce);
        return true;
    }

    private static Task<int> DefaultAsync(IQueryable<AccessReviewItem> lines, ReviewDecision decision, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        lines.ExecuteUpdateAsync(
            s => s.SetProperty(i => i.Decision, decision).SetProperty(i => i.DecidedByName, "(default)").SetProperty(i => i.DecidedAt, now).SetProperty(i => i.Reason, reason),
            cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access review {Review} run {Run} ended; {Defaulted} lines took the default decision")]
    private static partial void LogCompleted(ILogger logger, string review, int run, int defaulted);
}
