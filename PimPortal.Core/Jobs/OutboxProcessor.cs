using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Performs the outbox: claims due messages (a conditional update, so two instances never take the same one),
/// applies them to the directory in one batch, and records each outcome — the activation's new state and its audit
/// event — in one transaction.
/// </summary>
public sealed partial class OutboxProcessor(
    IDbContextFactory<PimDbContext> dbFactory,
    IDirectoryGateway gateway,
    TimeProvider time,
    IOptions<PimOptions> options,
    PortalEvents events,
    ILogger<OutboxProcessor> logger)
{
    /// <summary>Most messages taken in one claim.</summary>
    public const int BatchSize = 200;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Claims and performs one batch of due messages; returns how many were claimed.</summary>
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

    public async Task<int> ProcessBatchAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var claimed = await ClaimAsync(cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }

        var claimToken = claimed[0].LockedBy!;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var activationIds = claimed.Select(m => m.ActivationId).Distinct().ToList();
        var activations = await db.Activations.Include(a => a.Role)
            .Where(a => activationIds.Contains(a.Id))
            .ToDictionaryAsync(a => a.Id, cancellationToken);

        var changes = new List<(OutboxMessage Message, DirectoryChange? Change)>();
        foreach (var message in claimed)
        {
            changes.Add((message, activations.TryGetValue(message.ActivationId, out var activation) ? ToChange(message, activation) : null));
        }

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

        var now = time.GetUtcNow();
        var touched = new HashSet<Guid>();
        db.Outbox.AttachRange(claimed);
        foreach (var (message, change) in changes)
        {
            if (change is null || !byChange.TryGetValue(change, out var result))
            {
                // Nothing to do any more (an extension of a grant that has ended; a grant that is gone).
                message.Completed(now);
                continue;
            }

            var activation = activations[message.ActivationId];
            touched.Add(activation.PrincipalId);
            try
            {
                Record(db, message, change.Kind, activation, result, now);
            }
            catch (DomainRuleException ex)
            {
                // One message whose outcome the activation refuses must not hold up the batch.
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
            return claimed.Count;
        }

        events.RolesChanged(touched);
        LogBatch(logger, claimed.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return claimed.Count;
    }

    private void Record(PimDbContext db, OutboxMessage message, DirectoryChangeKind kind, RoleActivation activation, DirectoryChangeResult result, DateTimeOffset now)
    {
        var audit = (string action, AuditOutcome outcome, object? details) => db.AuditEvents.Add(AuditFactory.Create(
            Actor.System, ClientInfo.Unknown, now, action, "activation", activation.Id.ToString(), outcome, details, activation.PrincipalId, activation.RoleId));

        if (result.Outcome == DirectoryChangeOutcome.Done)
        {
            message.Completed(now);
            switch (kind)
            {
                case DirectoryChangeKind.Assign when activation.Status == ActivationStatus.Provisioning:
                    activation.ConfirmProvisioned(now);
                    audit(AuditActions.ActivationProvisioned, AuditOutcome.Success, new { notAfter = activation.NotAfter });
                    break;
                case DirectoryChangeKind.Remove:
                    activation.MarkRemovedFromDirectory(now);
                    audit(AuditActions.ActivationRemovedFromDirectory, AuditOutcome.Success, new { status = activation.Status.ToString() });
                    break;
                default:
                    // An Assign delivered again for a grant already Active, or an Extend: the directory already agrees.
                    break;
            }

            return;
        }

        var giveUp = result.Outcome == DirectoryChangeOutcome.Refused
            || (kind != DirectoryChangeKind.Remove && message.Attempts + 1 >= options.Value.Jobs.OutboxMaxAttempts);
        var error = result.Error ?? result.Outcome.ToString();
        if (!giveUp)
        {
            // The directory's own Retry-After wins over the backoff (throttling, a removal refused as too early).
            message.Failed(error, now + (result.RetryAfter ?? Backoff(message.Attempts + 1)));
            return;
        }

        message.Abandoned(error, now);
        switch (kind)
        {
            case DirectoryChangeKind.Assign when activation.Status == ActivationStatus.Provisioning:
                activation.FailProvisioning(error, now);
                audit(AuditActions.ActivationProvisioningFailed, AuditOutcome.Failed, new { error });
                break;
            case DirectoryChangeKind.Extend:
                audit(AuditActions.ActivationExtended, AuditOutcome.Failed, new { error, notAfter = activation.NotAfter });
                break;
            default:
                audit(AuditActions.ActivationRemovedFromDirectory, AuditOutcome.Failed, new { error });
                break;
        }
    }

    /// <summary>
    /// What a message asks of the directory, given the activation as it is now. A grant that ended before (or while)
    /// it was written is removed rather than assigned — removal is idempotent — so a late or repeated provisioning
    /// can never leave a role behind; and nothing removes a grant that is still open.
    /// </summary>
    private static DirectoryChange? ToChange(OutboxMessage message, RoleActivation activation)
    {
        var grant = new DirectoryGrant(activation.Id, activation.PrincipalId, activation.RoleId, activation.Role.Kind, activation.Role.ExternalId, activation.Scope, activation.NotBefore, activation.NotAfter);
        return (message.Type, activation.IsOpen) switch
        {
            (OutboxMessageType.ProvisionGrant, true) => new DirectoryChange(DirectoryChangeKind.Assign, grant),
            (OutboxMessageType.ProvisionGrant, false) => new DirectoryChange(DirectoryChangeKind.Remove, grant),
            (OutboxMessageType.ExtendGrant, true) => new DirectoryChange(DirectoryChangeKind.Extend, grant),
            (OutboxMessageType.RemoveGrant, false) => new DirectoryChange(DirectoryChangeKind.Remove, grant),
            _ => null,
        };
    }

    private async Task<List<OutboxMessage>> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var candidates = await db.Outbox.AsNoTracking()
            .Where(m => m.ProcessedAt == null && m.DueAt <= now && (m.LockedUntil == null || m.LockedUntil < now))
            .OrderBy(m => m.DueAt)
            .Select(m => m.Id)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }

        // One conditional update claims the batch; the claim token tells which rows this worker won.
        var token = Guid.NewGuid().ToString("N");
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox: {Count} messages performed and recorded in {ElapsedMs:0.0} ms")]
    private static partial void LogBatch(ILogger logger, int count, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The directory failed a batch of {Count} changes; they will be retried")]
    private static partial void LogDirectoryFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The outcome of outbox message {MessageId} was refused by its activation; the message is abandoned")]
    private static partial void LogOutcomeRefused(ILogger logger, Exception exception, Guid messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outcome of {Count} outbox messages conflicted with a concurrent change; they will be retried")]
    private static partial void LogOutcomeConflict(ILogger logger, Exception exception, int count);
}
