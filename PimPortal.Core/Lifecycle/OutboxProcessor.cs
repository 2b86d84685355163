using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Performs the outbox — the only code of the portal that writes the directory: claims messages (a conditional update,
/// so two instances never take the same one), applies them to the directory in one batch, and records each outcome —
/// the grant's new state or the standing removal's, with its audit event — in one transaction. A failure is retried
/// after a backoff (or the directory's own Retry-After); a grant is never given up on while its removal is owed.
/// </summary>
public sealed partial class OutboxProcessor(
    IDbContextFactory<PimDbContext> dbFactory,
    IDirectoryGateway gateway,
    TimeProvider time,
    IOptions<PimOptions> options,
    Announcer announcer,
    ILogger<OutboxProcessor> logger)
{
    /// <summary>Most messages taken in one claim.</summary>
    public const int BatchSize = 200;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>How long a standing removal waits while a grant of the portal holds the same role (the removal would take it).</summary>
    public static readonly TimeSpan HeldRetry = TimeSpan.FromMinutes(1);

    /// <summary>Why a standing removal waits (<see cref="HeldRetry"/>).</summary>
    public const string HeldBecause = "A grant of the portal holds this role now; the standing assignment is removed once that grant has ended and left the directory.";

    /// <summary>When the next message waiting for a retry is due (its backoff or Retry-After), or null when none waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // A message another worker holds is due when its lease ends, not before.
        return await db.Outbox.AsNoTracking()
            .Where(m => m.ProcessedAt == null)
            .Select(m => (DateTimeOffset?)(m.LockedUntil != null && m.LockedUntil > m.DueAt ? m.LockedUntil.Value : m.DueAt))
            .OrderBy(d => d)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>
    /// At a worker's start: frees the claims a previous run of this instance left when it died (a crash, a kill), so
    /// its messages are taken at once rather than when their lease runs out. On SQLite — one instance — every claim;
    /// on a shared database those made under this instance's name (<see cref="JobOptions.Instance"/>).
    /// </summary>
    public async Task<int> ReleaseAbandonedClaimsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = options.Value.Jobs.Instance + "/";
        var all = db.Database.IsSqlite();
        var released = await db.Outbox.Where(m => m.ProcessedAt == null && m.LockedBy != null && (all || m.LockedBy.StartsWith(mine)))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LockedUntil, (DateTimeOffset?)null).SetProperty(m => m.LockedBy, (string?)null), cancellationToken);
        if (released > 0)
        {
            LogReleasedAbandoned(logger, released, options.Value.Jobs.Instance);
        }

        return released;
    }

    /// <summary>Claims and performs one batch of due messages; returns how many were claimed.</summary>
    public async Task<int> ProcessBatchAsync(CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(null, cancellationToken);
        await PerformAsync(claimed, cancellationToken);
        return claimed.Count;
    }

    /// <summary>
    /// Performs <paramref name="messageIds"/> now, if nobody holds them (a command that wants to say at once how its
    /// directory write went): the same claim, write and record as the worker's, so each happens exactly once. Returns
    /// the outcome of each message this call performed; one the worker holds is not in it.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, DirectoryChangeResult>> DeliverNowAsync(IReadOnlyCollection<Guid> messageIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageIds);
        var claimed = await ClaimAsync(messageIds, cancellationToken);
        return await PerformAsync(claimed, cancellationToken);
    }

    private async Task<IReadOnlyDictionary<Guid, DirectoryChangeResult>> PerformAsync(List<OutboxMessage> claimed, CancellationToken cancellationToken)
    {
        if (claimed.Count == 0)
        {
            return new Dictionary<Guid, DirectoryChangeResult>();
        }

        using var correlation = Correlation.Begin();
        using var activity = PimTelemetry.Source.StartActivity("outbox.deliver");
        activity?.SetTag("pim.outbox.messages", claimed.Count);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var claimToken = claimed[0].LockedBy!;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        try
        {
            return await PerformClaimedAsync(db, claimed, claimToken, started, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The instance is stopping: whatever the directory did with this batch, another instance takes the messages
            // at once (each write is idempotent and read back), rather than when the lease runs out.
            await ReleaseAsync(claimToken, CancellationToken.None);
            throw;
        }
    }

    private async Task<IReadOnlyDictionary<Guid, DirectoryChangeResult>> PerformClaimedAsync(
        PimDbContext db, List<OutboxMessage> claimed, string claimToken, long started, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var targets = await OutboxTargets.LoadAsync(db, claimed, cancellationToken);
        var changes = claimed.Select(message => (Message: message, Change: targets.ToChange(message, now))).ToList();
        var toApply = changes.Where(c => c.Change is not null).Select(c => c.Change!).ToList();
        IReadOnlyList<DirectoryChangeResult> results;
        try
        {
            results = await gateway.ApplyAsync(toApply, cancellationToken);
        }
#pragma warning disable CA1031 // Whatever the directory threw, the messages are retried later; the worker goes on.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogDirectoryFailed(logger, ex, toApply.Count);
            results = [.. toApply.Select(c => new DirectoryChangeResult(c, DirectoryChangeOutcome.RetryLater, ex.Message))];
        }

        if (results.Count != toApply.Count)
        {
            throw new InvalidOperationException($"The directory gateway answered {results.Count} results for {toApply.Count} changes.");
        }

        var byChange = new Dictionary<DirectoryChange, DirectoryChangeResult>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < toApply.Count; i++)
        {
            byChange[toApply[i]] = results[i];
        }

        now = time.GetUtcNow();
        var work = LifecycleContext.System(db, now);
        var outcomes = new Dictionary<Guid, DirectoryChangeResult>();
        db.Outbox.AttachRange(claimed);
        foreach (var (message, change) in changes)
        {
            if (targets.Held.Contains(message.TargetId))
            {
                // Removing the standing assignment now would take the portal's grant with it (the directory cannot tell
                // the two apart): it waits until the grant is gone.
                message.Failed(HeldBecause, now + HeldRetry);
                continue;
            }

            if (change is null || !byChange.TryGetValue(change, out var result))
            {
                // Nothing to do any more (an extension of a grant that has ended; a grant that is gone).
                message.Completed(now);
                continue;
            }

            outcomes[message.Id] = result;
            try
            {
                Record(work, message, change.Kind, targets, result);
            }
            catch (DomainRuleException ex)
            {
                // One message whose outcome its target refuses must not hold up the batch.
                LogOutcomeRefused(logger, ex, message.Id);
                message.Abandoned(ex.Message, now);
            }
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException ex)
        {
            // A user or the expiry worker changed one of these activations meanwhile, or this worker's lease ran out
            // and another took the messages: release the claim so they are taken again at once, against the new state.
            LogOutcomeConflict(logger, ex, claimed.Count);
            await ReleaseAsync(claimToken, cancellationToken);
            return new Dictionary<Guid, DirectoryChangeResult>();
        }

        announcer.Announce(work.Announce);
        LogBatch(logger, claimed.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return outcomes;
    }

    private void Record(LifecycleContext work, OutboxMessage message, DirectoryChangeKind kind, OutboxTargets targets, DirectoryChangeResult result)
    {
        var now = work.Now;

        // Open pages show a write's progress (attempts, the last error): whatever happens, its holder's pages re-read.
        work.Announce.RolesOf(message.Type == OutboxMessageType.RemoveStandingAssignment
            ? targets.Removals[message.TargetId].PrincipalId
            : targets.Activations[message.TargetId].PrincipalId);
        var giveUp = result.Outcome == DirectoryChangeOutcome.Refused
            || (kind != DirectoryChangeKind.Remove && message.Attempts + 1 >= options.Value.Jobs.OutboxMaxAttempts);
        var error = result.Outcome == DirectoryChangeOutcome.Done ? null : result.Error ?? result.Outcome.ToString();
        if (error is not null && !giveUp)
        {
            // The directory's own Retry-After wins over the backoff (throttling, a removal refused as too early).
            message.Failed(error, now + (result.RetryAfter ?? Backoff(message.Attempts + 1)));
            PimTelemetry.DirectoryRetries.Add(1, new("pim.change", kind.ToString()), new("pim.reason", result.Throttled ? "throttled" : result.RetryAfter is null ? "error" : "asked-to-wait"));
            return;
        }

        if (error is null)
        {
            message.Completed(now);
        }
        else
        {
            message.Abandoned(error, now);
        }

        if (message.Type == OutboxMessageType.RemoveStandingAssignment)
        {
            var removal = targets.Removals[message.TargetId];
            StandingAccess.RecordOutcome(work, removal, targets.Roles[removal.RoleId], removal.FindingId is { } finding ? targets.Findings.GetValueOrDefault(finding) : null, error);
            return;
        }

        var activation = targets.Activations[message.TargetId];
        void Audit(string action, AuditOutcome outcome, object details) =>
            work.Audit(action, "activation", activation.Id.ToString(), outcome, details, activation.PrincipalId, activation.RoleId);
        switch (kind, error)
        {
            case (DirectoryChangeKind.Assign, null) when activation.Status == ActivationStatus.Provisioning:
                activation.ConfirmProvisioned(now);
                Audit(AuditActions.ActivationProvisioned, AuditOutcome.Success, new { notAfter = activation.NotAfter });
                break;
            case (DirectoryChangeKind.Remove, null):
                activation.MarkRemovedFromDirectory(now);
                PimTelemetry.ExpiryLag.Record(Math.Max(0, (now - (activation.EndedAt ?? activation.NotAfter)).TotalSeconds));
                Audit(AuditActions.ActivationRemovedFromDirectory, AuditOutcome.Success, new { status = activation.Status.ToString() });
                break;
            case (_, null):
                // An Assign delivered again for a grant already Active, or an Extend: the directory already agrees.
                break;
            case (DirectoryChangeKind.Assign, _) when activation.Status == ActivationStatus.Provisioning:
                activation.FailProvisioning(error, now);
                PimTelemetry.GrantsFailed.Add(1, new KeyValuePair<string, object?>("pim.role_id", activation.RoleId));
                Audit(AuditActions.ActivationProvisioningFailed, AuditOutcome.Failed, new { error });
                break;
            case (DirectoryChangeKind.Extend, _):
                Audit(AuditActions.ActivationExtended, AuditOutcome.Failed, new { error, notAfter = activation.NotAfter });
                break;
            default:
                Audit(AuditActions.ActivationRemovedFromDirectory, AuditOutcome.Failed, new { error });
                break;
        }
    }

    /// <summary>Claims the due messages (or the given ones, when nobody holds them); returns those this call won.</summary>
    private async Task<List<OutboxMessage>> ClaimAsync(IReadOnlyCollection<Guid>? only, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var open = db.Outbox.AsNoTracking().Where(m => m.ProcessedAt == null && (m.LockedUntil == null || m.LockedUntil < now));
        List<Guid> candidates;
        if (only is null)
        {
            candidates = await open.Where(m => m.DueAt <= now).OrderBy(m => m.DueAt).Select(m => m.Id).Take(BatchSize).ToListAsync(cancellationToken);
        }
        else
        {
            var ids = only.ToList();
            candidates = await open.Where(m => ids.Contains(m.Id)).Select(m => m.Id).ToListAsync(cancellationToken);
        }

        if (candidates.Count == 0)
        {
            return [];
        }

        // One conditional update claims the batch; the claim token tells which rows this worker won.
        var token = $"{options.Value.Jobs.Instance}/{Guid.NewGuid():N}";
        var leaseEnd = now + options.Value.Jobs.OutboxLease;
        await db.Outbox
            .Where(m => candidates.Contains(m.Id) && m.ProcessedAt == null && (m.LockedUntil == null || m.LockedUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LockedUntil, leaseEnd).SetProperty(m => m.LockedBy, token), cancellationToken);
        return await db.Outbox.AsNoTracking()
            .Where(m => m.LockedBy == token)
            .OrderBy(m => m.CreatedAt)
            .ToListAsync(cancellationToken);
    }

    private async Task ReleaseAsync(string token, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Outbox.Where(m => m.LockedBy == token && m.ProcessedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.LockedUntil, (DateTimeOffset?)null).SetProperty(m => m.LockedBy, (string?)null), cancellationToken);
    }

    private static TimeSpan Backoff(int attempts)
    {
        var seconds = Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(attempts, 16)));
        return TimeSpan.FromSeconds(seconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {Count} outbox claims a previous run of instance {Instance} held")]
    private static partial void LogReleasedAbandoned(ILogger logger, int count, string instance);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox: {Count} messages performed and recorded in {ElapsedMs:0.0} ms")]
    private static partial void LogBatch(ILogger logger, int count, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The directory failed a batch of {Count} changes; they will be retried")]
    private static partial void LogDirectoryFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outcome of outbox message {MessageId} was refused by its target; the message is abandoned")]
    private static partial void LogOutcomeRefused(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outcome of {Count} outbox messages conflicted with a concurrent change; they will be retried")]
    private static partial void LogOutcomeConflict(ILogger logger, Exception exception, int count);
}
