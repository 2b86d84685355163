using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Runs access reviews on their schedules: opens each instance when it is due (exactly once, whichever portal instance
/// gets there first: the instance row is unique per definition and run), reminds reviewers halfway through, closes an
/// instance at its end taking the default decision for the lines left, and applies the results when the definition
/// says so. Every pass looks at the database afresh, so a restart picks up whatever fell due meanwhile.
/// </summary>
public sealed partial class AccessReviewProcessor(
    IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Notifier notifier, JobSignals signals, PortalEvents events, ILogger<AccessReviewProcessor> logger)
{
    /// <summary>Lines applied per transaction.</summary>
    internal const int ApplyBatch = 200;

    /// <summary>One pass: open, remind, complete, apply — each step on its own, so one that fails does not hold up the others.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        await StepAsync(nameof(OpenDueAsync), OpenDueAsync, cancellationToken);
        await StepAsync(nameof(RemindAsync), RemindAsync, cancellationToken);
        await StepAsync(nameof(CompleteEndedAsync), CompleteEndedAsync, cancellationToken);
        await StepAsync(nameof(ApplyPendingAsync), ApplyPendingAsync, cancellationToken);
    }

    private async Task StepAsync(string step, Func<CancellationToken, Task<int>> run, CancellationToken cancellationToken)
    {
        try
        {
            await run(cancellationToken);
        }
#pragma warning disable CA1031 // A failed step is logged and tried again at the next pass; the other steps still run.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogStepFailed(logger, ex, step);
        }
    }

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

        IReadOnlyList<Guid> notified = [];
        if (missed)
        {
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.ReviewMissed, "review-instance", instance.Id.ToString(), AuditOutcome.Failed,
                new { review = definition.Name, reviewId = definition.Id, run = run + 1, startsAt = starts, endsAt = ends, reason = "the portal did not run during the whole review period" }));
        }
        else
        {
            instance.Opened(await ReviewLines.InsertAsync(db, definition, instance, now, cancellationToken));
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.ReviewOpened, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
                new { review = definition.Name, reviewId = definition.Id, run = run + 1, startsAt = starts, endsAt = ends, lines = instance.ItemCount }));
            notified = await NotifyReviewersAsync(db, definition, instance, NotificationKind.ReviewAssigned, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogOpened(logger, definition.Name, run + 1, instance.ItemCount, instance.Status);
        signals.Mail.Set();
        events.NotificationsChanged(notified);
        return true;
    }

    /// <summary>Halfway through an instance of a definition with reminders, tells each reviewer who still has lines how many (once).</summary>
    public async Task<int> RemindAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<Guid> due;
        await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            due = [.. (await read.AccessReviewInstances.AsNoTracking()
                    .Where(i => i.Status == ReviewInstanceStatus.Active && i.ReminderSentAt == null && i.EndsAt > now && i.Definition.Reminders)
                    .ToListAsync(cancellationToken))
                .Where(i => i.ReminderDueAt <= now).Select(i => i.Id)];
        }

        var sent = 0;
        foreach (var id in due)
        {
            // One context per instance: a conflict on one (another portal instance reminded it) leaves the others alone.
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var instance = await db.AccessReviewInstances.Include(i => i.Definition).SingleAsync(i => i.Id == id, cancellationToken);
            if (instance.Status != ReviewInstanceStatus.Active || instance.ReminderSentAt is not null)
            {
                continue;
            }

            instance.Reminded(now);
            var notified = await NotifyReviewersAsync(db, instance.Definition, instance, NotificationKind.ReviewReminder, cancellationToken);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.ReviewReminded, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
                new { review = instance.Definition.Name, run = instance.Run + 1, reviewers = notified.Count }));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Another portal instance reminded (or closed) it at the same moment.
                continue;
            }

            sent++;
            signals.Mail.Set();
            events.NotificationsChanged(notified);
        }

        return sent;
    }

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
    /// Closes the instance: the default decision for the lines nobody decided, and its audit event with the tally, in one
    /// transaction. False when it was not open (ended already, or another portal instance closed it at the same moment).
    /// </summary>
    internal async Task<bool> CompleteAsync(Guid instanceId, Actor actor, ClientInfo client, string? endedEarlyBecause, CancellationToken cancellationToken)
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
        var (tally, _) = (await ReviewCounts.ReadAsync(db, [instance.Id], cancellationToken))[instance.Id];
        db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.ReviewCompleted, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
            new
            {
                review = definition.Name, run = instance.Run + 1, lines = instance.ItemCount, byDefault = defaulted, defaultDecision = definition.DefaultDecision.ToString(),
                approved = tally.Approved, denied = tally.Denied, dontKnow = tally.DontKnow, notReviewed = tally.NotReviewed, endedEarly = endedEarlyBecause,
            }));
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
        return true;
    }

    private static Task<int> DefaultAsync(IQueryable<AccessReviewItem> lines, ReviewDecision decision, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        lines.ExecuteUpdateAsync(
            s => s.SetProperty(i => i.Decision, decision).SetProperty(i => i.DecidedByName, "(default)").SetProperty(i => i.DecidedAt, now).SetProperty(i => i.Reason, reason),
            cancellationToken);

    /// <summary>Applies the closed instances of auto-applying definitions, and resumes any application left half done.</summary>
    public async Task<int> ApplyPendingAsync(CancellationToken cancellationToken)
    {
        List<Guid> pending;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            pending = await db.AccessReviewInstances.AsNoTracking()
                .Where(i => (i.Status == ReviewInstanceStatus.Completed && i.Definition.AutoApply) || i.Status == ReviewInstanceStatus.Applying)
                .Select(i => i.Id).ToListAsync(cancellationToken);
        }

        foreach (var id in pending)
        {
            try
            {
                await ApplyAsync(id, Actor.System, ClientInfo.Unknown, cancellationToken);
            }
            catch (ConflictException)
            {
                // Another portal instance began applying it at the same moment; it (or the next pass) finishes it.
            }
        }

        return pending.Count;
    }

    /// <summary>
    /// Applies a closed instance: each denied eligibility is removed, each denied active assignment ended, through the
    /// same code as a PIM administrator's removal, audited with the review, the reviewer and the reason. Lines are
    /// claimed a batch at a time (a line is applied once even if two portal instances apply at once), so an
    /// application cut short by a restart resumes where it stopped.
    /// </summary>
    internal async Task<ReviewApplication> ApplyAsync(Guid instanceId, Actor actor, ClientInfo client, CancellationToken cancellationToken)
    {
        AccessReviewDefinition definition;
        int run;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var instance = await db.AccessReviewInstances.Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == instanceId, cancellationToken)
                ?? throw new NotFoundException("That review does not exist.");
            if (instance.Status != ReviewInstanceStatus.Applying)
            {
                instance.BeginApplying();
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateConcurrencyException)
                {
                    throw new ConflictException("Someone else is applying these results at the same moment.");
                }
            }

            definition = instance.Definition;
            run = instance.Run;
        }

        var result = new ReviewApplication(0, 0);
        var conflicts = 0;
        while (true)
        {
            ReviewApplication? batch;
            try
            {
                batch = await ApplyBatchAsync(instanceId, definition, run, actor, client, cancellationToken);
                conflicts = 0;
            }
            catch (DbUpdateConcurrencyException) when (++conflicts < 5)
            {
                // An eligibility or assignment of the batch changed at the same moment (an administrator removed it): the
                // batch was rolled back whole; read it again.
                continue;
            }

            if (batch is null)
            {
                break;
            }

            result = new ReviewApplication(result.Removed + batch.Removed, result.AlreadyGone + batch.AlreadyGone);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var instance = await db.AccessReviewInstances.SingleAsync(i => i.Id == instanceId, cancellationToken);
            if (instance.Status == ReviewInstanceStatus.Applying)
            {
                var now = time.GetUtcNow();
                instance.MarkApplied(now, actor.IsSystem ? null : actor.PrincipalId);
                var applied = await db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instanceId && i.AppliedAt != null)
                    .GroupBy(i => i.Outcome).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
                db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.ReviewApplied, "review-instance", instanceId.ToString(), AuditOutcome.Success,
                    new { review = definition.Name, run = run + 1, removed = applied.Where(a => a.Key == Outcomes.Removed).Sum(a => a.Count), alreadyGone = applied.Where(a => a.Key != Outcomes.Removed).Sum(a => a.Count) }));
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    LogApplied(logger, definition.Name, run + 1, result.Removed);
                }
                catch (DbUpdateConcurrencyException)
                {
                    // Another portal instance finished it at the same moment.
                }
            }
        }

        return result;
    }

    /// <summary>Applies the next batch of denied lines not applied yet; null when none is left.</summary>
    private async Task<ReviewApplication?> ApplyBatchAsync(Guid instanceId, AccessReviewDefinition definition, int run, Actor actor, ClientInfo client, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var lines = await db.AccessReviewItems.Where(i => i.InstanceId == instanceId && i.Decision == ReviewDecision.Deny && i.AppliedAt == null)
            .OrderBy(i => i.Id).Take(ApplyBatch).ToListAsync(cancellationToken);
        if (lines.Count == 0)
        {
            return null;
        }

        // Claim them: a line another portal instance claimed meanwhile makes this batch give way and look again.
        var ids = lines.Select(i => i.Id).ToList();
        var claimed = await db.AccessReviewItems.Where(i => ids.Contains(i.Id) && i.AppliedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AppliedAt, now), cancellationToken);
        if (claimed != lines.Count)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new ReviewApplication(0, 0);
        }

        var eligibilityIds = lines.Where(i => i.EligibilityId != null).Select(i => i.EligibilityId!.Value).ToList();
        var eligibilities = await db.Eligibilities.Include(e => e.Role).Where(e => eligibilityIds.Contains(e.Id)).ToDictionaryAsync(e => e.Id, cancellationToken);
        var activationIds = lines.Where(i => i.ActivationId != null).Select(i => i.ActivationId!.Value).ToList();
        var activations = await db.Activations.Include(a => a.Role).Where(a => activationIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);
        var removals = new List<EligibilityRemoved>();
        var removed = 0;
        var lapsed = 0;
        foreach (var line in lines)
        {
            var why = $"Access review “{definition.Name}” (run {run + 1}): denied by {line.DecidedByName ?? "a reviewer"}{(line.Reason is { } reason ? $" — {reason}" : "")}";
            var review = new { reviewId = definition.Id, instanceId, run = run + 1, decidedBy = line.DecidedByName, decidedById = line.DecidedBy, reason = line.Reason };
            if (line.EligibilityId is { } eligibilityId && eligibilities.TryGetValue(eligibilityId, out var eligibility) && eligibility.IsCurrentAt(now))
            {
                removals.Add(await EligibilityRemoval.RemoveAsync(db, notifier, eligibility, actor, client, why, review, now, cancellationToken));
                line.Applied(Outcomes.Removed, now);
                removed++;
            }
            else if (line.ActivationId is { } activationId && activations.TryGetValue(activationId, out var activation) && activation.IsOpen)
            {
                lapsed += await ActiveAssignmentRemoval.RemoveAsync(db, activation, actor, client,
                    new { role = activation.Role.DisplayName, scope = activation.Scope, reason = "denied in an access review", justification = why, review }, now, cancellationToken);
                line.Applied(Outcomes.Removed, now);
                removed++;
            }
            else
            {
                line.Applied(Outcomes.AlreadyGone, now);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await EligibilityRemoval.AnnounceAsync(db, signals, events, removals, cancellationToken);
        if (activations.Count > 0)
        {
            signals.Outbox.Set();
            events.RolesChanged(activations.Values.Select(a => a.PrincipalId));
        }

        if (lapsed > 0)
        {
            events.ApprovalsChanged();
        }

        return new ReviewApplication(removed, lines.Count - removed);
    }

    /// <summary>
    /// Tells each reviewer of the instance who has lines left how many (in the portal, and by mail when configured):
    /// the users named on lines, and — for lines of the named or fallback reviewers — those users and the members of those groups.
    /// </summary>
    private async Task<IReadOnlyList<Guid>> NotifyReviewersAsync(
        PimDbContext db, AccessReviewDefinition definition, AccessReviewInstance instance, NotificationKind kind, CancellationToken cancellationToken)
    {
        var left = db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id && i.Decision == ReviewDecision.None);
        var lines = await left.Where(i => i.ReviewerId != null).GroupBy(i => i.ReviewerId!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var shared = await left.CountAsync(i => i.ReviewerId == null, cancellationToken);
        if (shared > 0)
        {
            foreach (var reviewer in await ReviewerRules.ListReviewersAsync(db, definition.Id, cancellationToken))
            {
                lines[reviewer] = lines.GetValueOrDefault(reviewer) + shared;
            }
        }

        var recipients = await db.Principals.AsNoTracking().Where(p => p.IsEnabled && p.Kind == PrincipalKind.User)
            .Where(p => lines.Keys.Contains(p.Id)).Select(p => p.Id).ToListAsync(cancellationToken);
        var link = $"/my-reviews/{instance.Id}";
        foreach (var reviewer in recipients)
        {
            var count = lines[reviewer];
            var (subject, body) = kind == NotificationKind.ReviewReminder
                ? ($"Reminder: {count} access review {(count == 1 ? "line" : "lines")} left in “{definition.Name}”",
                    $"The access review “{definition.Name}” ends {instance.EndsAt:u}. You have {count} {(count == 1 ? "line" : "lines")} left to decide; what is not decided by then gets the review's default decision ({Describe(definition.DefaultDecision)}).")
                : ($"Access review “{definition.Name}”: {count} {(count == 1 ? "line" : "lines")} to decide",
                    $"The access review “{definition.Name}” is open until {instance.EndsAt:u}. Decide for each line whether the access is still needed: approve, deny or don't know.");
            await notifier.NotifyAsync(db, reviewer, kind, subject, body, link, cancellationToken);
        }

        return recipients;
    }

    internal static string Describe(ReviewDefaultDecision decision) => decision switch
    {
        ReviewDefaultDecision.Approve => "approve",
        ReviewDefaultDecision.Remove => "remove",
        ReviewDefaultDecision.Recommendation => "take the recommendation",
        _ => "no change",
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Access reviews: {Step} failed; it runs again at the next pass")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string step);

    [LoggerMessage(Level = LogLevel.Error, Message = "Access review {Review} could not open its run; the next pass tries again")]
    private static partial void LogOpenFailed(ILogger logger, Exception exception, string review);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access review {Review} run {Run}: {Lines} lines, {Status}")]
    private static partial void LogOpened(ILogger logger, string review, int run, int lines, ReviewInstanceStatus status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access review {Review} run {Run} ended; {Defaulted} lines took the default decision")]
    private static partial void LogCompleted(ILogger logger, string review, int run, int defaulted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access review {Review} run {Run} applied: {Removed} removed")]
    private static partial void LogApplied(ILogger logger, string review, int run, int removed);
}

/// <summary>How an instance's lines were decided.</summary>
public sealed record ReviewTally(int Approved, int Denied, int DontKnow, int NotReviewed)
{
    public int Decided => Approved + Denied + DontKnow;

    public int Total => Decided + NotReviewed;
}

/// <summary>How runs stand: their tallies and how many lines applying removed, in one grouped read.</summary>
internal static class ReviewCounts
{
    public static async Task<Dictionary<Guid, (ReviewTally Tally, int Removed)>> ReadAsync(PimDbContext db, IReadOnlyCollection<Guid> instanceIds, CancellationToken cancellationToken)
    {
        var ids = instanceIds.ToList();
        var counts = await db.AccessReviewItems.AsNoTracking().Where(i => ids.Contains(i.InstanceId))
            .GroupBy(i => new { i.InstanceId, i.Decision, Removed = i.Outcome == Outcomes.Removed })
            .Select(g => new { g.Key.InstanceId, g.Key.Decision, g.Key.Removed, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return ids.ToDictionary(id => id, id =>
        {
            var of = counts.Where(c => c.InstanceId == id).ToList();
            int Count(ReviewDecision decision) => of.Where(c => c.Decision == decision).Sum(c => c.Count);
            return (new ReviewTally(Count(ReviewDecision.Approve), Count(ReviewDecision.Deny), Count(ReviewDecision.DontKnow), Count(ReviewDecision.None)),
                of.Where(c => c.Removed).Sum(c => c.Count));
        });
    }
}

/// <summary>What applying did: denied access removed, or already gone by then.</summary>
public sealed record ReviewApplication(int Removed, int AlreadyGone);

/// <summary>The outcomes recorded on applied lines.</summary>
internal static class Outcomes
{
    public const string Removed = "Removed";
    public const string AlreadyGone = "Already gone";
}

/// <summary>Every <c>Pim:Reviews:Interval</c>, or at once when a review is created: opens, reminds, closes and applies access reviews.</summary>
public sealed class AccessReviewWorker(AccessReviewProcessor processor, JobSignals signals, TimeProvider time, IOptions<PimOptions> options, ILogger<AccessReviewWorker> logger)
    : IntervalWorker(time, logger)
{
    protected override TimeSpan Interval => options.Value.Reviews.Interval;

    protected override WorkSignal Wake => signals.Reviews;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => processor.RunAsync(cancellationToken);
}
