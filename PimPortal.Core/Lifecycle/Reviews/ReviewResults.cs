using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>
/// Applies a closed instance's results in the background: a governance lead asks (<see cref="RequestAsync"/>), or the
/// definition applies itself; the review worker then removes each denied eligibility and ends each denied active
/// assignment — through <see cref="EligibilityRemoval"/> and <see cref="Grants"/>, so each is audited like an
/// administrator's removal, in the name of whoever asked. Lines are claimed a batch at a time by a conditional update,
/// so a line is applied once even when two portal instances apply at once, and an application cut short by a restart
/// resumes where it stopped; each batch is a few set-based statements, not a query per line.
/// </summary>
public sealed partial class ReviewResults(
    IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, EligibilityRemoval removal, Grants grants, Announcer announcer, ILogger<ReviewResults> logger)
{
    /// <summary>Denied lines applied per transaction.</summary>
    public const int BatchSize = 500;

    /// <summary>
    /// A governance lead asks for a closed instance's results to be applied: it turns Applying in their name (audited)
    /// and the worker is woken. Returns how many denied lines wait to be applied. The caller saves.
    /// </summary>
    public async Task<int> RequestAsync(LifecycleContext work, Guid instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var instance = await work.Db.AccessReviewInstances.Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == instanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        instance.RequestApplying(work.Actor.PrincipalId);
        var denials = await Denied(work.Db, instanceId).CountAsync(cancellationToken);
        work.Audit(AuditActions.ReviewApplyRequested, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
            new { review = instance.Definition.Name, run = instance.Run + 1, denials });
        work.Announce.WakeReviews();
        work.Announce.ReviewRunsChanged();
        return denials;
    }

    /// <summary>Applies what was asked for, the closed instances of definitions that apply themselves, and any application left half done.</summary>
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
            await ApplyAsync(id, cancellationToken);
        }

        return pending.Count;
    }

    /// <summary>
    /// Applies one instance to the end, batch after batch, then marks it applied (audited). Returns what this call did;
    /// nothing when it was not (or no longer) to be applied, or another portal instance began it at the same moment.
    /// </summary>
    public async Task<ReviewApplication> ApplyAsync(Guid instanceId, CancellationToken cancellationToken)
    {
        AccessReviewDefinition definition;
        AccessReviewInstance instance;
        Actor actor;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            instance = await db.AccessReviewInstances.Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == instanceId, cancellationToken)
                ?? throw new NotFoundException("That review does not exist.");
            if (instance.Status == ReviewInstanceStatus.Completed && instance.Definition.AutoApply)
            {
                instance.BeginApplying();
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateConcurrencyException)
                {
                    // Another portal instance began applying it at the same moment; it (or the next pass) finishes it.
                    return new ReviewApplication(0, 0);
                }
            }

            if (instance.Status != ReviewInstanceStatus.Applying)
            {
                return new ReviewApplication(0, 0);
            }

            definition = instance.Definition;
            actor = instance.AppliedBy is { } by
                ? new Actor(by, await db.Principals.Where(p => p.Id == by).Select(p => p.DisplayName).SingleOrDefaultAsync(cancellationToken) ?? by.ToString(), new HashSet<string>())
                : Actor.System;
        }

        // The denied lines are read once; each batch applies those of its part still unapplied, so an instance applying the
        // same part at the same moment finds them applied and goes on.
        List<long> denied;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            denied = await Denied(db, instanceId).OrderBy(i => i.Id).Select(i => i.Id).ToListAsync(cancellationToken);
        }

        var result = new ReviewApplication(0, 0);
        foreach (var part in denied.Chunk(BatchSize))
        {
            for (var conflicts = 0; ; conflicts++)
            {
                try
                {
                    var batch = await ApplyBatchAsync(instance, actor, part, cancellationToken);
                    result = new ReviewApplication(result.Removed + batch.Removed, result.AlreadyGone + batch.AlreadyGone);
                    break;
                }
                catch (DbUpdateConcurrencyException) when (conflicts < 5)
                {
                    // An eligibility or assignment of the batch changed at the same moment (an administrator removed it, or
                    // another portal instance applied it): the batch was rolled back whole; read it again.
                }
            }
        }

        await MarkAppliedAsync(instance.Id, definition, actor, result, cancellationToken);
        return result;
    }

    /// <summary>
    /// Applies the lines of <paramref name="part"/> not applied yet, in one transaction: the removals, then the lines
    /// marked applied with their outcome — all of them, or (another writer got there first) none.
    /// </summary>
    private async Task<ReviewApplication> ApplyBatchAsync(AccessReviewInstance instance, Actor actor, long[] part, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var lines = await db.AccessReviewItems.AsNoTracking().Where(i => part.Contains(i.Id) && i.AppliedAt == null)
            .Select(i => new { i.Id, i.EligibilityId, i.ActivationId, i.DecidedBy, i.DecidedByName, i.Reason }).ToListAsync(cancellationToken);
        if (lines.Count == 0)
        {
            return new ReviewApplication(0, 0);
        }

        var eligibilityIds = lines.Where(l => l.EligibilityId != null).Select(l => l.EligibilityId!.Value).ToList();
        var current = await db.Eligibilities.AsNoTracking().Where(RoleEligibility.Current.At(now)).Where(e => eligibilityIds.Contains(e.Id))
            .Select(e => new { e.Id, e.PrincipalId, e.RoleId, e.Scope, Role = e.Role.DisplayName }).ToDictionaryAsync(e => e.Id, cancellationToken);
        var activationIds = lines.Where(l => l.ActivationId != null).Select(l => l.ActivationId!.Value).ToList();
        var open = activationIds.Count == 0
            ? []
            : await db.Activations.Include(a => a.Role).Where(RoleActivation.Open).Where(a => activationIds.Contains(a.Id)).ToDictionaryAsync(a => a.Id, cancellationToken);

        var definition = instance.Definition;
        var run = instance.Run + 1;
        var removals = new List<EligibilityToRemove>();
        var ends = new List<GrantEnd>();
        var removed = new List<long>();
        foreach (var line in lines)
        {
            var why = $"Access review “{definition.Name}” (run {run}): denied by {line.DecidedByName ?? "a reviewer"}{(line.Reason is { } reason ? $" — {reason}" : "")}";
            var review = new { reviewId = definition.Id, instanceId = instance.Id, run, decidedBy = line.DecidedByName, decidedById = line.DecidedBy, reason = line.Reason };
            if (line.EligibilityId is { } eligibilityId && current.TryGetValue(eligibilityId, out var eligibility))
            {
                removals.Add(new EligibilityToRemove(eligibility.Id, eligibility.PrincipalId, eligibility.RoleId, eligibility.Role, eligibility.Scope, why, review));
                removed.Add(line.Id);
            }
            else if (line.ActivationId is { } activationId && open.TryGetValue(activationId, out var activation))
            {
                ends.Add(new GrantEnd(activation, GrantEnding.Removed,
                    new { role = activation.Role.DisplayName, scope = activation.Scope, reason = "denied in an access review", justification = why, review }));
                removed.Add(line.Id);
            }
        }

        var work = new LifecycleContext(db, actor, ClientInfo.Unknown, now);
        await removal.RemoveAsync(work, removals, null, cancellationToken);
        await grants.EndAsync(work, ends, cancellationToken);

        // The lines applied, with their outcomes — the claim: a line another writer applied meanwhile undoes the batch.
        var ids = lines.Select(l => l.Id).ToList();
        var claimed = await db.AccessReviewItems.Where(i => ids.Contains(i.Id) && i.AppliedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(i => i.AppliedAt, now)
            .SetProperty(i => i.Outcome, i => removed.Contains(i.Id) ? ReviewLineOutcomes.Removed : ReviewLineOutcomes.AlreadyGone), cancellationToken);
        if (claimed != ids.Count)
        {
            throw new DbUpdateConcurrencyException($"{ids.Count - claimed} lines of the batch were applied at the same moment.");
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        work.Announce.ReviewRunsChanged();
        announcer.Announce(work.Announce);
        return new ReviewApplication(removed.Count, lines.Count - removed.Count);
    }

    private async Task MarkAppliedAsync(Guid instanceId, AccessReviewDefinition definition, Actor actor, ReviewApplication result, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.SingleAsync(i => i.Id == instanceId, cancellationToken);
        if (instance.Status != ReviewInstanceStatus.Applying)
        {
            return;
        }

        var work = new LifecycleContext(db, actor, ClientInfo.Unknown, time.GetUtcNow());
        instance.MarkApplied(work.Now);
        var counts = (await ReviewCounts.ReadAsync(db, [instanceId], cancellationToken))[instanceId];
        work.Audit(AuditActions.ReviewApplied, "review-instance", instanceId.ToString(), AuditOutcome.Success,
            new { review = definition.Name, run = instance.Run + 1, removed = counts.Removed, alreadyGone = counts.Applied - counts.Removed });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            LogApplied(logger, definition.Name, instance.Run + 1, result.Removed);
            work.Announce.ReviewRunsChanged();
            announcer.Announce(work.Announce);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another portal instance finished it at the same moment.
        }
    }

    private static IQueryable<AccessReviewItem> Denied(PimDbContext db, Guid instanceId) =>
        db.AccessReviewItems.Where(i => i.InstanceId == instanceId && i.Decision == ReviewDecision.Deny && i.AppliedAt == null);

    [LoggerMessage(Level = LogLevel.Information, Message = "Access review {Review} run {Run} applied: {Removed} removed")]
    private static partial void LogApplied(ILogger logger, string review, int run, int removed);
}

/// <summary>What applying did: denied access removed, or already gone by then.</summary>
public sealed record ReviewApplication(int Removed, int AlreadyGone);

/// <summary>The outcomes recorded on applied lines.</summary>
internal static class ReviewLineOutcomes
{
    public const string Removed = "Removed";
    public const string AlreadyGone = "Already gone";
}
