using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Ends every open activation whose time is up — and every one held by a disabled account or from an eligibility that
/// ended or was removed — writing the new state, its audit event and the directory removal (outbox) in one
/// transaction per batch; expires pending requests nobody decided in time; and starts approved requests whose
/// scheduled start has come (or lets them lapse when they can no longer be carried out). Each row is guarded by its
/// version, so with several instances each happens exactly once.
/// </summary>
public sealed partial class ExpiryProcessor(
    IDbContextFactory<PimDbContext> dbFactory,
    TimeProvider time,
    Grants grants,
    ApprovedRequests approvedRequests,
    Notifier notifier,
    Announcer announcer,
    ILogger<ExpiryProcessor> logger)
{
    /// <summary>Most rows ended in one transaction.</summary>
    public const int BatchSize = 250;

    /// <summary>Ends everything due now, batch after batch; returns how many activations and requests were ended.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken cancellationToken)
    {
        using var activity = PimTelemetry.Source.StartActivity("expiry.pass");
        using var correlation = Correlation.Begin();
        var total = 0;
        int ended;
        do
        {
            ended = await EndActivationsAsync(cancellationToken);
            total += ended;
        }
        while (ended == BatchSize);

        do
        {
            ended = await ExpireRequestsAsync(cancellationToken);
            total += ended;
        }
        while (ended == BatchSize);

        do
        {
            ended = await StartScheduledAsync(cancellationToken);
            total += ended;
        }
        while (ended == BatchSize);

        return total;
    }

    /// <summary>When the next open activation ends or the next pending request expires, or null when nothing waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var activation = await db.Activations.AsNoTracking()
            .Where(RoleActivation.Open)
            .OrderBy(a => a.NotAfter)
            .Select(a => (DateTimeOffset?)a.NotAfter)
            .FirstOrDefaultAsync(cancellationToken);
        var request = await db.ActivationRequests.AsNoTracking()
            .Where(r => r.Status == ActivationRequestStatus.Pending)
            .OrderBy(r => r.ExpiresAt)
            .Select(r => r.ExpiresAt)
            .FirstOrDefaultAsync(cancellationToken);
        var start = await db.ActivationRequests.AsNoTracking()
            .Where(r => r.Status == ActivationRequestStatus.Scheduled)
            .OrderBy(r => r.RequestedStart)
            .Select(r => (DateTimeOffset?)r.RequestedStart)
            .FirstOrDefaultAsync(cancellationToken);
        return new[] { activation, request, start }.Where(d => d is not null).Min();
    }

    private async Task<int> EndActivationsAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var due = await (
                from a in db.Activations.Where(RoleActivation.Open)
                join p in db.Principals on a.PrincipalId equals p.Id
                join eligibilities in db.Eligibilities on a.EligibilityId equals (Guid?)eligibilities.Id into found
                from e in found.DefaultIfEmpty()
                let viaGroup = e != null && e.PrincipalId != a.PrincipalId
                let leftGroup = viaGroup && !db.GroupMemberships.Any(m => m.GroupId == e!.PrincipalId && m.MemberId == a.PrincipalId
                    && db.Principals.Any(g => g.Id == e.PrincipalId && g.IsEnabled))
                where a.NotAfter <= now || !p.IsEnabled || (e != null && (e.RemovedAt != null || e.NotAfter <= now)) || leftGroup
                orderby a.NotAfter
                select new { Activation = a, p.IsEnabled, RemovedAt = e == null ? null : e.RemovedAt, LeftGroup = leftGroup })
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        // Several instances wake at the same ends and read the same rows: on PostgreSQL each locks what it read, skipping
        // what another has locked, so they end disjoint sets instead of one losing its whole batch to the version guard.
        // (SQLite holds one instance; elsewhere the version guard alone keeps each end to one.)
        await using var transaction = db.Database.IsNpgsql() ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        if (transaction is not null)
        {
            var ids = due.Select(row => row.Activation.Id).ToArray();
            // The table's name comes from the model, not from input.
            var sql = "SELECT \"Id\" AS \"Value\" FROM \"" + db.Model.FindEntityType(typeof(RoleActivation))!.GetTableName() + "\" WHERE \"Id\" = ANY(@ids) FOR UPDATE SKIP LOCKED";
            var locked = (await db.Database.SqlQueryRaw<Guid>(sql, new Npgsql.NpgsqlParameter("ids", ids)).ToListAsync(cancellationToken)).ToHashSet();
            var read = due.Count;
            due = [.. due.Where(row => locked.Contains(row.Activation.Id))];
            if (due.Count == 0)
            {
                // Another instance is ending all of them; what it leaves is seen at the next pass.
                return 0;
            }

            if (due.Count < read)
            {
                LogShared(logger, read - due.Count);
            }
        }

        var work = LifecycleContext.System(db, now);
        await grants.EndAsync(work, [.. due.Select(row => now >= row.Activation.NotAfter
            ? new GrantEnd(row.Activation, GrantEnding.Expired, new { notAfter = row.Activation.NotAfter, reason = "time is up" })
            : new GrantEnd(row.Activation, GrantEnding.RevokedByPortal, new
            {
                notAfter = row.Activation.NotAfter,
                reason = !row.IsEnabled ? "account disabled" : row.RemovedAt is not null ? "eligibility removed"
                    : row.LeftGroup ? "no longer a member of the eligible group" : "eligibility ended",
            }))], cancellationToken);
        if (!await TrySaveAsync(db, due.Count, cancellationToken))
        {
            return 0;
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        announcer.Announce(work.Announce);
        LogEnded(logger, due.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return due.Count;
    }

    private async Task<int> ExpireRequestsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var due = await db.ActivationRequests.Include(r => r.Role)
            .Where(r => r.Status == ActivationRequestStatus.Pending && r.ExpiresAt <= now)
            .OrderBy(r => r.ExpiresAt)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        var work = LifecycleContext.System(db, now);
        foreach (var request in due)
        {
            request.Expire(now);
            work.Audit(AuditActions.RequestExpired, "request", request.Id.ToString(), AuditOutcome.Success,
                new { role = request.Role.DisplayName, scope = request.Scope, kind = request.Kind.ToString(), reason = "nobody decided in time" }, request.RequesterId, request.RoleId);
            await notifier.RequestClosedAsync(db, request, request.Role.DisplayName, "not decided in time", "It expired; ask again if you still need the role.", cancellationToken);
        }

        await RequestLapses.RetireAsync(work, [.. due.Select(r => r.Id)], cancellationToken);
        work.Announce.RolesOf(due.Select(r => r.RequesterId));
        work.Announce.NotificationsOf(due.Select(r => r.RequesterId));
        if (!await TrySaveAsync(db, due.Count, cancellationToken))
        {
            return 0;
        }

        announcer.Announce(work.Announce);
        return due.Count;
    }

    private async Task<int> StartScheduledAsync(CancellationToken cancellationToken)
    {
        List<Guid> due;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var now = time.GetUtcNow();
            due = await db.ActivationRequests.AsNoTracking()
                .Where(r => r.Status == ActivationRequestStatus.Scheduled && r.RequestedStart <= now)
                .OrderBy(r => r.RequestedStart)
                .Select(r => r.Id)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
        }

        // Scheduled starts are few: each in its own transaction, so one that cannot be carried out holds up no other.
        // Only what started counts: a request that failed is looked at again on the next pass, not in a tight loop.
        var started = 0;
        foreach (var id in due)
        {
            try
            {
                if (await StartOneAsync(id, cancellationToken))
                {
                    started++;
                }
            }
            catch (Exception ex) when (ex is DomainRuleException or DbUpdateException)
            {
                LogStartFailed(logger, ex, id);
            }
        }

        return started;
    }

    /// <summary>Starts one scheduled request; false when another instance got there first.</summary>
    private async Task<bool> StartOneAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var request = await db.ActivationRequests.Include(r => r.Decisions).Include(r => r.Role)
            .SingleAsync(r => r.Id == id, cancellationToken);
        if (request.Status != ActivationRequestStatus.Scheduled)
        {
            return false;
        }

        var work = LifecycleContext.System(db, now);
        request.Start(now);
        work.Audit(AuditActions.RequestStarted, "request", request.Id.ToString(), AuditOutcome.Success,
            new { role = request.Role.DisplayName, scheduledStart = request.RequestedStart }, request.RequesterId, request.RoleId);
        var approvedBy = await ApprovedRequests.ApprovedByAsync(db, request, cancellationToken);
        var outcome = await approvedRequests.CarryOutAsync(work, request, approvedBy, cancellationToken);
        if (outcome.LapsedBecause is { } lapsed)
        {
            await notifier.RequestClosedAsync(db, request, request.Role.DisplayName, "not carried out", lapsed, cancellationToken);
        }

        work.Announce.RolesOf(request.RequesterId);
        work.Announce.NotificationsOf([request.RequesterId]);
        if (!await TrySaveAsync(db, 1, cancellationToken))
        {
            return false;
        }

        announcer.Announce(work.Announce);
        return true;
    }

    private async Task<bool> TrySaveAsync(PimDbContext db, int count, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateConcurrencyException ex)
        {
            // Another instance (or the holder, deactivating; the requester, cancelling) changed some of these first;
            // the next pass sees the rest.
            LogConflict(logger, ex, count);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Expiry: {Count} activations ended in {ElapsedMs:0.0} ms")]
    private static partial void LogEnded(ILogger logger, int count, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The scheduled request {RequestId} could not be started; it is left as it is")]
    private static partial void LogStartFailed(ILogger logger, Exception exception, Guid requestId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Expiry: {Count} due activations are being ended by another instance")]
    private static partial void LogShared(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ending {Count} rows conflicted with a concurrent change; retrying")]
    private static partial void LogConflict(ILogger logger, Exception exception, int count);
}
