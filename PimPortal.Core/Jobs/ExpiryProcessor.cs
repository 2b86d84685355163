using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Ends every open activation whose time is up — and every one held by a disabled account — writing the new state,
/// its audit event and the directory removal (outbox) in one transaction per batch. Each row is guarded by its
/// version, so with several instances each expiry happens exactly once.
/// </summary>
public sealed partial class ExpiryProcessor(
    IDbContextFactory<PimDbContext> dbFactory,
    TimeProvider time,
    JobSignals signals,
    PortalEvents events,
    ILogger<ExpiryProcessor> logger)
{
    /// <summary>Most activations ended in one transaction.</summary>
    public const int BatchSize = 250;

    /// <summary>Ends everything due now, batch after batch; returns how many were ended.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        var total = 0;
        while (true)
        {
            var ended = await ExpireBatchAsync(cancellationToken);
            total += ended;
            if (ended < BatchSize)
            {
                return total;
            }
        }
    }

    /// <summary>When the next open activation ends, or null when none is open.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Activations.AsNoTracking()
            .Where(a => a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active)
            .OrderBy(a => a.NotAfter)
            .Select(a => (DateTimeOffset?)a.NotAfter)
            .FirstOrDefaultAsync(cancellationToken);
    }

    private async Task<int> ExpireBatchAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var due = await (
                from a in db.Activations
                join p in db.Principals on a.PrincipalId equals p.Id
                where (a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active)
                      && (a.NotAfter <= now || !p.IsEnabled)
                orderby a.NotAfter
                select a)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        foreach (var activation in due)
        {
            string action;
            if (now >= activation.NotAfter)
            {
                activation.Expire(now);
                action = AuditActions.ActivationExpired;
            }
            else
            {
                activation.Revoke(Guid.Empty, now);
                action = AuditActions.ActivationRevoked;
            }

            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, action, "activation", activation.Id.ToString(), AuditOutcome.Success,
                new { notAfter = activation.NotAfter, reason = action == AuditActions.ActivationRevoked ? "account disabled" : "time is up" },
                activation.PrincipalId, activation.RoleId));
            db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.RemoveGrant, activation.Id, now));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException ex)
        {
            // Another instance (or the holder, deactivating) ended some of these first; the next pass sees the rest.
            LogConflict(logger, ex, due.Count);
            return 0;
        }

        signals.Outbox.Set();
        events.RolesChanged(due.Select(a => a.PrincipalId));
        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expiring {Count} activations conflicted with a concurrent change; retrying")]
    private static partial void LogConflict(ILogger logger, Exception exception, int count);
}
