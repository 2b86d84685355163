using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Audit;

/// <summary>
/// Keeps the audit trail tamper-evident: seals new events into checkpoints, verifies the trail against them, exports
/// the checkpoints as a digest, and prunes what the retention period lets go of into archive files.
/// </summary>
public sealed partial class AuditTrail(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, IOptions<PimOptions> options, ILogger<AuditTrail> logger)
{
    /// <summary>The most events one checkpoint seals.</summary>
    public const int CheckpointSize = 5000;

    /// <summary>
    /// Seals every event committed so far, in id order, a checkpoint at a time; returns how many. Safe with several
    /// instances: a checkpoint's sequence is its key, so only one of two racing sealers makes it.
    /// </summary>
    public async Task<long> SealAsync(CancellationToken cancellationToken)
    {
        if (await SettledWatermarkAsync(cancellationToken) is not { } watermark)
        {
            return 0;
        }

        long sealedCount = 0;
        while (true)
        {
            var count = await SealCheckpointAsync(watermark, cancellationToken);
            if (count == 0)
            {
                return sealedCount;
            }

            sealedCount += count;
        }
    }

    /// <summary>
    /// The highest event id below which no event can still appear, or null when that cannot be told yet (then nothing
    /// is sealed this pass). Ids are taken at insert and committed in any order across connections. PostgreSQL: the
    /// highest visible id and the snapshot it was read in; once every transaction running then has ended, no lower id
    /// can appear — no lock is taken, so nothing (autovacuum included) waits for the sealer. SQL Server: a shared table
    /// lock for a moment, which waits (at most five seconds) for transactions inserting events. SQLite has one writer,
    /// so what is visible is settled.
    /// </summary>
    private async Task<long?> SettledWatermarkAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (db is PostgresPimDbContext)
        {
            var read = await db.Database.SqlQueryRaw<PostgresWatermark>(
                "SELECT COALESCE(MAX(\"Id\"), 0) AS \"Watermark\", pg_snapshot_xmax(pg_current_snapshot())::text AS \"Xmax\" FROM \"AuditEvents\"")
                .SingleAsync(cancellationToken);
            var deadline = Stopwatch.StartNew();
            while (!await db.Database.SqlQueryRaw<bool>("SELECT pg_snapshot_xmin(pg_current_snapshot()) >= CAST({0} AS xid8) AS \"Value\"", read.Xmax).SingleAsync(cancellationToken))
            {
                if (deadline.Elapsed > SettleTimeout)
                {
                    LogNotSettled(logger, read.Watermark);
                    return null;
                }

                // Real time: this waits for other connections' transactions, not for the portal's clock.
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }

            return read.Watermark;
        }

        if (db is not SqlServerPimDbContext)
        {
            return await db.Database.SqlQueryRaw<long>("SELECT COALESCE(MAX(\"Id\"), 0) AS \"Value\" FROM \"AuditEvents\"").SingleAsync(cancellationToken);
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("SET LOCK_TIMEOUT 5000", cancellationToken);
        try
        {
            var watermark = await db.Database.SqlQueryRaw<long>("SELECT ISNULL(MAX([Id]), 0) AS [Value] FROM [AuditEvents] WITH (TABLOCK, HOLDLOCK)").SingleAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return watermark;
        }
        catch (DbException ex) when (ex.Message.Contains("Lock request time out", StringComparison.OrdinalIgnoreCase))
        {
            LogNotSettled(logger, 0);
            return null;
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync("SET LOCK_TIMEOUT -1", CancellationToken.None);
        }
    }

    /// <summary>How long a sealing pass waits for transactions that may still add events below what it sees.</summary>
    internal static TimeSpan SettleTimeout { get; } = TimeSpan.FromSeconds(5);

    private sealed record PostgresWatermark(long Watermark, string Xmax);

    private async Task<int> SealCheckpointAsync(long watermark, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var last = await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.Sequence).FirstOrDefaultAsync(cancellationToken);
        var after = last?.LastEventId ?? 0;
        var events = await db.AuditEvents.AsNoTracking()
            .Where(e => e.Id > after && e.Id <= watermark)
            .OrderBy(e => e.Id)
            .Take(CheckpointSize)
            .ToListAsync(cancellationToken);
        if (events.Count == 0)
        {
            return 0;
        }

        var hasher = new AuditChain.Hasher();
        var previous = last?.Hash ?? AuditChain.Genesis;
        var hashes = new byte[events.Count][];
        var hash = previous;
        for (var i = 0; i < events.Count; i++)
        {
            hash = hashes[i] = hasher.Next(hash, events[i]);
        }

        var checkpoint = new AuditCheckpoint(
            (last?.Sequence ?? 0) + 1, events[0].Id, events[^1].Id, events.Count, previous, hash,
            events.Min(e => e.OccurredAt), events.Max(e => e.OccurredAt), time.GetUtcNow());
        db.AuditCheckpoints.Add(checkpoint);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            LogSealedElsewhere(logger, checkpoint.Sequence);
            return 0;
        }

        await SetChainHashesAsync(db, transaction, events, hashes, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogSealed(logger, checkpoint.Sequence, events.Count, checkpoint.FirstEventId, checkpoint.LastEventId);
        return events.Count;
    }

    /// <summary>Sets each event's chain hash: only where none is set yet (the one change the audit table's guard lets through).</summary>
    private static async Task SetChainHashesAsync(PimDbContext db, IDbContextTransaction transaction, List<AuditEvent> events, byte[][] hashes, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction.GetDbTransaction();
        command.CommandText =
            $"UPDATE {db.Quote("AuditEvents")} SET {db.Quote("ChainHash")} = @hash WHERE {db.Quote("Id")} = @id AND {db.Quote("ChainHash")} IS NULL";
        var hashParameter = Parameter(command, "@hash", System.Data.DbType.Binary);
        var idParameter = Parameter(command, "@id", System.Data.DbType.Int64);
        for (var i = 0; i < events.Count; i++)
        {
            hashParameter.Value = hashes[i];
            idParameter.Value = events[i].Id;
            if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                throw new InvalidOperationException($"Audit event #{events[i].Id} was sealed by someone else while this checkpoint was being made.");
            }
        }
    }

    private static DbParameter Parameter(DbCommand command, string name, System.Data.DbType type)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        command.Parameters.Add(parameter);
        return parameter;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sealed audit checkpoint {Sequence}: {Count} events, #{First}–#{Last}")]
    private static partial void LogSealed(ILogger logger, long sequence, int count, long first, long last);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit events after #{Watermark} were not sealed this pass: a transaction that may still add events has not ended")]
    private static partial void LogNotSettled(ILogger logger, long watermark);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit checkpoint {Sequence} was sealed by another instance")]
    private static partial void LogSealedElsewhere(ILogger logger, long sequence);
}
