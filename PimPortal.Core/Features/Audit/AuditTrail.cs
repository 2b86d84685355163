using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Common;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

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

    /// <summary>
    /// Recomputes the whole trail (after the last pruning) against its checkpoints, and every pruning against its
    /// checkpoints, its audit event, the retention period and (where it is at hand) its archive; stops at the first
    /// broken place. A break seen while a seal or a pruning was being committed is looked at again.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var before = await SealStateAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var result = await VerifyOnceAsync(cancellationToken);
            var after = result.Intact ? before : await SealStateAsync(cancellationToken);
            if (result.Intact || attempt == 3 || after == before)
            {
                return result with { Elapsed = watch.Elapsed };
            }

            before = after;
        }
    }

    private async Task<(long Checkpoints, long Prunes)> SealStateAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await db.AuditCheckpoints.MaxAsync(c => (long?)c.Sequence, cancellationToken) ?? 0, await db.AuditPrunes.LongCountAsync(cancellationToken));
    }

    private async Task<AuditVerification> VerifyOnceAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var prunes = await db.AuditPrunes.AsNoTracking().OrderBy(p => p.ThroughEventId).ToListAsync(cancellationToken);
        var prune = prunes.LastOrDefault();
        var all = await db.AuditCheckpoints.AsNoTracking().OrderBy(c => c.Sequence).ToListAsync(cancellationToken);
        AuditVerification Broken(AuditBreak at) => new(false, 0, 0, 0, prune?.ThroughEventId, at, TimeSpan.Zero);

        // The pruned part: its checkpoints are kept and must still chain up to where the pruning stopped.
        if (AuditChainWalker.CheckCheckpointChain(all, AuditChain.Genesis, 0) is { } broken)
        {
            return Broken(broken);
        }

        if (await CheckPrunesAsync(db, prunes, all, cancellationToken) is { } badPrune)
        {
            return Broken(badPrune);
        }

        var start = prune?.BoundaryHash ?? AuditChain.Genesis;
        var after = prune?.ThroughEventId ?? 0;
        if (prune is not null && await db.AuditEvents.AsNoTracking().Where(e => e.Id <= after).OrderBy(e => e.Id).FirstOrDefaultAsync(cancellationToken) is { } stray)
        {
            return Broken(new AuditBreak("inserted", $"Event #{stray.Id} lies in the part pruned through #{after}: it was added afterwards.", stray.Id, null));
        }

        // The checkpoints are chained (checked above), so each run of them can be verified on its own from the hash
        // it starts at: one run per core, each on its own connection; the first broken place is the earliest run's.
        var remaining = all.Where(c => c.LastEventId > after).ToList();
        var runs = Math.Clamp(Math.Min(Environment.ProcessorCount, remaining.Count / 20), 1, 8);
        var bounds = Enumerable.Range(0, runs).Select(i => remaining.Count * i / runs).Append(remaining.Count).ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, runs).Select(i => Task.Run(async () =>
        {
            var mine = remaining.GetRange(bounds[i], bounds[i + 1] - bounds[i]);
            var from = i == 0 ? after : remaining[bounds[i] - 1].LastEventId;
            long? through = i == runs - 1 ? null : mine[^1].LastEventId;
            var walker = new AuditChainWalker(mine, mine.Count > 0 ? mine[0].PreviousHash : start, from);
            await using var runDb = await dbFactory.CreateDbContextAsync(cancellationToken);
            await WalkAsync(runDb, walker, from, through, cancellationToken);

            return walker.Finish(prune?.ThroughEventId, TimeSpan.Zero);
        }, cancellationToken)));

        var firstBroken = results.FirstOrDefault(r => !r.Intact);
        return new AuditVerification(
            firstBroken is null, results.Sum(r => r.EventsVerified), results.Sum(r => r.CheckpointsVerified), results[^1].Unsealed, prune?.ThroughEventId,
            firstBroken?.Break, TimeSpan.Zero);
    }

    /// <summary>
    /// Each pruning must follow the one before, take exactly the events its checkpoints sealed, have been allowed by
    /// the retention period (when one is set), be recorded by its own audit event — and its archive, where it is at
    /// hand, must be the file that was recorded. (A pruning row is all the guard triggers ask before a delete.)
    /// </summary>
    private async Task<AuditBreak?> CheckPrunesAsync(PimDbContext db, List<AuditPrune> prunes, List<AuditCheckpoint> all, CancellationToken cancellationToken)
    {
        long previousThrough = 0;
        long previousCheckpoint = 0;
        var retention = options.Value.Audit.Retention;
        var directory = Path.GetFullPath(options.Value.Audit.ArchiveDirectory);
        foreach (var prune in prunes)
        {
            AuditBreak Bad(string why) =>
                new("pruned", $"The pruning of events #{prune.AfterEventId + 1}–#{prune.ThroughEventId} ({prune.PrunedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC) {why}.", prune.ThroughEventId, prune.ThroughCheckpoint);
            var covered = all.Where(c => c.Sequence > previousCheckpoint && c.Sequence <= prune.ThroughCheckpoint).ToList();
            if (prune.AfterEventId != previousThrough || covered.Count == 0 || covered[0].Sequence != previousCheckpoint + 1)
            {
                return Bad("does not follow the pruning before it");
            }

            if (covered[^1].LastEventId != prune.ThroughEventId || covered.Sum(c => c.EventCount) != prune.EventCount || !covered[^1].Hash.AsSpan().SequenceEqual(prune.BoundaryHash))
            {
                return Bad($"does not match checkpoints {covered[0].Sequence}–{covered[^1].Sequence}");
            }

            if (retention is { } period && period > TimeSpan.Zero && covered.Max(c => c.LastOccurredAt) >= prune.PrunedAt - period)
            {
                return Bad($"took events newer than the retention period ({period.TotalDays:0.#} days) allowed");
            }

            if (prune.PrunedAt > time.GetUtcNow().AddMinutes(5))
            {
                return Bad("is dated in the future");
            }

            var target = prune.ThroughEventId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var sha256 = prune.ArchiveSha256;
            var recorded = await db.AuditEvents.AsNoTracking()
                .AnyAsync(e => e.Action == AuditActions.AuditPruned && e.TargetId == target && e.Id > prune.ThroughEventId && e.Details != null && e.Details.Contains(sha256), cancellationToken);
            if (!recorded)
            {
                return Bad("has no audit event recording it");
            }

            var archive = Path.Combine(directory, prune.ArchiveFile);
            if (File.Exists(archive))
            {
                await using var file = File.OpenRead(archive);
                if (!string.Equals(Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken)), prune.ArchiveSha256, StringComparison.Ordinal))
                {
                    return Bad($"has an archive ({prune.ArchiveFile}) that is not the file it recorded");
                }
            }

            previousThrough = prune.ThroughEventId;
            previousCheckpoint = prune.ThroughCheckpoint;
        }

        return null;
    }

    /// <summary>Feeds the events after <paramref name="after"/> (through <paramref name="through"/>) to the walker, in id order.</summary>
    private static async Task WalkAsync(PimDbContext db, AuditChainWalker walker, long after, long? through, CancellationToken cancellationToken)
    {
        if (db is not SqlitePimDbContext)
        {
            await foreach (var e in ReadEventsAsync(db, after, through, cancellationToken))
            {
                if (!walker.Add(e))
                {
                    return;
                }
            }

            return;
        }

        // SQLite: read through its own API, building each event's canonical bytes straight from the stored UTF-8 (no
        // strings made, nothing converted): reading the values is most of a verification's time.
        await db.Database.OpenConnectionAsync(cancellationToken);
        SqliteTrailReader.Walk((Microsoft.Data.Sqlite.SqliteConnection)db.Database.GetDbConnection(), walker, after, through ?? long.MaxValue, cancellationToken);
    }

    /// <summary>
    /// Every event after <paramref name="after"/> in id order, read with a plain data reader: verification reads the
    /// whole trail, and EF's materialization would be most of its time. Values are converted as EF converts them, so
    /// the hashes are of exactly what EF reads and writes.
    /// </summary>
    private static async IAsyncEnumerable<AuditEvent> ReadEventsAsync(PimDbContext db, long after, long? through, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string[] columns = ["Id", "OccurredAt", "ActorId", "ActorName", "Action", "TargetType", "TargetId", "SubjectId", "RoleId", "Outcome", "Details", "ClientAddress", "UserAgent", "CorrelationId", "ChainHash"];
        var occurredAt = db.Model.FindEntityType(typeof(AuditEvent))!.FindProperty(nameof(AuditEvent.OccurredAt))!.GetTypeMapping().Converter;
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns.Select(db.Quote))} FROM {db.Quote("AuditEvents")} WHERE {db.Quote("Id")} > @after AND {db.Quote("Id")} <= @through ORDER BY {db.Quote("Id")}";
        Parameter(command, "@after", System.Data.DbType.Int64).Value = after;
        Parameter(command, "@through", System.Data.DbType.Int64).Value = through ?? long.MaxValue;
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // In column order: the reader is sequential.
            var id = reader.GetInt64(0);
            var at = occurredAt is null ? reader.GetFieldValue<DateTimeOffset>(1) : (DateTimeOffset)occurredAt.ConvertFromProvider(reader.GetValue(1))!;
            var actorId = GuidOrNull(reader, 2);
            var actorName = reader.GetString(3);
            var action = reader.GetString(4);
            var targetType = reader.GetString(5);
            var targetId = reader.GetString(6);
            var subjectId = GuidOrNull(reader, 7);
            var roleId = GuidOrNull(reader, 8);
            var outcome = AuditChain.ParseOutcome(reader.GetString(9));
            yield return AuditEvent.Restore(
                id, at, actorId, actorName, action, targetType, targetId, outcome, StringOrNull(reader, 10), subjectId, roleId,
                StringOrNull(reader, 11), StringOrNull(reader, 12), StringOrNull(reader, 13), reader.IsDBNull(14) ? null : reader.GetFieldValue<byte[]>(14));
        }
    }

    private static Guid? GuidOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetGuid(ordinal);

    private static string? StringOrNull(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);


    /// <summary>
    /// Compares the database's checkpoints with a digest exported earlier: every checkpoint in the digest must still be
    /// there unchanged (a trail rewritten with fresh hashes passes <see cref="VerifyAsync"/> but not this).
    /// </summary>
    public async Task<AuditBreak?> CompareWithDigestAsync(AuditDigest digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(digest);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stored = await db.AuditCheckpoints.AsNoTracking().ToDictionaryAsync(c => c.Sequence, cancellationToken);
        if (DigestDifference(digest.Checkpoints, stored) is { } differs)
        {
            return differs;
        }

        var prunes = await db.AuditPrunes.AsNoTracking().ToDictionaryAsync(p => p.AfterEventId, cancellationToken);
        foreach (var expected in digest.Prunes)
        {
            if (!prunes.TryGetValue(expected.AfterEventId, out var actual) || actual.ThroughEventId != expected.ThroughEventId ||
                actual.EventCount != expected.EventCount || actual.ArchiveFile != expected.ArchiveFile || actual.ArchiveSha256 != expected.ArchiveSha256)
            {
                return new AuditBreak("digest", $"The pruning of events #{expected.AfterEventId + 1}–#{expected.ThroughEventId} differs from the digest, or is missing.", expected.ThroughEventId, expected.ThroughCheckpoint);
            }
        }

        return null;
    }

    internal static AuditBreak? DigestDifference(IEnumerable<AuditCheckpoint> digest, IReadOnlyDictionary<long, AuditCheckpoint> stored)
    {
        foreach (var expected in digest)
        {
            if (!stored.TryGetValue(expected.Sequence, out var actual))
            {
                return new AuditBreak("digest", $"Checkpoint {expected.Sequence} of the digest (events #{expected.FirstEventId}–#{expected.LastEventId}) is missing.", null, expected.Sequence);
            }

            if (actual.FirstEventId != expected.FirstEventId || actual.LastEventId != expected.LastEventId || actual.EventCount != expected.EventCount ||
                actual.FirstOccurredAt != expected.FirstOccurredAt || actual.LastOccurredAt != expected.LastOccurredAt ||
                !actual.Hash.AsSpan().SequenceEqual(expected.Hash) || !actual.PreviousHash.AsSpan().SequenceEqual(expected.PreviousHash))
            {
                return new AuditBreak("digest",
                    $"Checkpoint {expected.Sequence} differs from the digest (events #{expected.FirstEventId}–#{expected.LastEventId}): the trail was rewritten after the digest was exported.",
                    null, expected.Sequence);
            }
        }

        return null;
    }

    /// <summary>Writes the digest: a header, every checkpoint, every pruning. Returns how many checkpoints.</summary>
    public async Task<long> WriteDigestAsync(Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await AuditFiles.WriteLineAsync(output, json => AuditFiles.WriteHeader(json, AuditFiles.DigestFormat, time.GetUtcNow()), cancellationToken);
        long count = 0;
        await foreach (var checkpoint in db.AuditCheckpoints.AsNoTracking().OrderBy(c => c.Sequence).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            await AuditFiles.WriteLineAsync(output, json => AuditFiles.WriteCheckpoint(json, checkpoint), cancellationToken);
            count++;
        }

        foreach (var prune in await db.AuditPrunes.AsNoTracking().OrderBy(p => p.ThroughEventId).ToListAsync(cancellationToken))
        {
            await AuditFiles.WriteLineAsync(output, json => AuditFiles.WritePrune(json, prune), cancellationToken);
        }

        return count;
    }

    /// <summary>
    /// Prunes the events past the retention period (<c>Pim:Audit:Retention</c>; none when unset): whole checkpoints
    /// whose latest event is older than the period, at most 20 (100,000 events) per transaction. The events are verified
    /// against their checkpoints as they are archived: a part of the trail that does not verify is not pruned. Each run writes them to an archive file
    /// first (with their checkpoints and the chain hash before them), then records the pruning — its own audit event
    /// included — and deletes them in one transaction. Returns how many events were pruned.
    /// </summary>
    public async Task<long> PruneAsync(CancellationToken cancellationToken)
    {
        var retention = options.Value.Audit.Retention;
        if (retention is not { } period || period <= TimeSpan.Zero)
        {
            return 0;
        }

        long pruned = 0;
        while (await PruneOnceAsync(time.GetUtcNow() - period, cancellationToken) is var count and > 0)
        {
            pruned += count;
        }

        return pruned;
    }

    private async Task<long> PruneOnceAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var last = await db.AuditPrunes.AsNoTracking().OrderByDescending(p => p.ThroughEventId).FirstOrDefaultAsync(cancellationToken);
        var afterCheckpoint = last?.ThroughCheckpoint ?? 0;
        var candidates = await db.AuditCheckpoints.AsNoTracking()
            .Where(c => c.Sequence > afterCheckpoint)
            .OrderBy(c => c.Sequence)
            .Take(20)
            .ToListAsync(cancellationToken);
        var checkpoints = candidates.TakeWhile((c, i) => c.Sequence == afterCheckpoint + 1 + i && c.LastOccurredAt < cutoff).ToList();
        if (checkpoints.Count == 0)
        {
            return 0;
        }

        var afterEventId = last?.ThroughEventId ?? 0;
        var through = checkpoints[^1];
        var now = time.GetUtcNow();
        if (db is not SqlitePimDbContext && !Path.IsPathRooted(options.Value.Audit.ArchiveDirectory))
        {
            throw new InvalidOperationException(
                $"Pim:Audit:ArchiveDirectory is '{options.Value.Audit.ArchiveDirectory}', relative to each instance's working directory: with a shared database, give an absolute path on durable storage every instance writes to. Nothing was pruned.");
        }

        var directory = Path.GetFullPath(options.Value.Audit.ArchiveDirectory);
        System.IO.Directory.CreateDirectory(directory);
        var name = FormattableString.Invariant($"audit-{afterEventId + 1:D12}-{through.LastEventId:D12}-{now:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}.jsonl");
        var path = Path.Combine(directory, name);
        // Verified against the checkpoints as it is written (a missing, added or changed event stops the pruning).
        var (events, sha256) = await WriteArchiveAsync(db, path, checkpoints, afterEventId, now, cancellationToken);

        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.AuditPrunes.Add(new AuditPrune(afterEventId, through.LastEventId, through.Sequence, events, through.Hash, name, sha256, now));
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.AuditPruned, "audit", through.LastEventId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                AuditOutcome.Success, new { archive = name, sha256, fromEventId = afterEventId + 1, throughEventId = through.LastEventId, events, olderThan = cutoff }));
            await db.SaveChangesAsync(cancellationToken);
            var deleted = await db.AuditEvents.Where(e => e.Id > afterEventId && e.Id <= through.LastEventId).ExecuteDeleteAsync(cancellationToken);
            if (deleted != events)
            {
                throw new InvalidOperationException($"{deleted} audit events were there to delete, not the {events} archived: nothing was pruned.");
            }

            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            // The file is kept if its pruning was committed after all (a connection lost at the commit); otherwise it is
            // no record of anything. Another instance having pruned the same events first is no failure.
            if (!await PrunedAsync(name))
            {
                File.Delete(path);
            }

            if (ex is DbUpdateException update && DbErrors.IsUniqueViolation(update))
            {
                LogPrunedElsewhere(logger);
                return 0;
            }

            throw;
        }

        LogPruned(logger, events, afterEventId + 1, through.LastEventId, path);
        return events;
    }

    private async Task<bool> PrunedAsync(string archiveFile)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        return await db.AuditPrunes.AnyAsync(p => p.ArchiveFile == archiveFile, CancellationToken.None);
    }

    private static async Task<(long Events, string Sha256)> WriteArchiveAsync(
        PimDbContext db, string path, List<AuditCheckpoint> checkpoints, long afterEventId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var partial = path + ".partial";
        long events = 0;
        var throughId = checkpoints[^1].LastEventId;
        await using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await AuditFiles.WriteLineAsync(file, json => AuditFiles.WriteHeader(json, AuditFiles.ArchiveFormat, now, j =>
            {
                j.WriteNumber("afterEventId", afterEventId);
                j.WriteNumber("throughEventId", throughId);
                j.WriteString("startHash", Convert.ToHexStringLower(checkpoints[0].PreviousHash));
            }), cancellationToken);
            foreach (var checkpoint in checkpoints)
            {
                await AuditFiles.WriteLineAsync(file, json => AuditFiles.WriteCheckpoint(json, checkpoint), cancellationToken);
            }

            var walker = new AuditChainWalker(checkpoints, checkpoints[0].PreviousHash, afterEventId);
            var rows = db.AuditEvents.AsNoTracking().Where(e => e.Id > afterEventId && e.Id <= throughId).OrderBy(e => e.Id).AsAsyncEnumerable();
            await foreach (var e in rows.WithCancellation(cancellationToken))
            {
                walker.Add(e);
                await AuditFiles.WriteLineAsync(file, json => AuditFiles.WriteEvent(json, e), cancellationToken);
                events++;
            }

            if (walker.Finish(null, TimeSpan.Zero) is { Intact: false } result)
            {
                await file.DisposeAsync();
                File.Delete(partial);
                throw new InvalidOperationException($"The audit events to prune do not verify, so nothing was pruned: {result.Break!.Message}");
            }

            await file.FlushAsync(cancellationToken);
            file.Flush(flushToDisk: true);
        }

        File.Move(partial, path);
        string sha256;
        await using (var written = File.OpenRead(path))
        {
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(written, cancellationToken));
        }

        return (events, sha256);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sealed audit checkpoint {Sequence}: {Count} events, #{First}–#{Last}")]
    private static partial void LogSealed(ILogger logger, long sequence, int count, long first, long last);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit events after #{Watermark} were not sealed this pass: a transaction that may still add events has not ended")]
    private static partial void LogNotSettled(ILogger logger, long watermark);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit events were pruned by another instance")]
    private static partial void LogPrunedElsewhere(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit checkpoint {Sequence} was sealed by another instance")]
    private static partial void LogSealedElsewhere(ILogger logger, long sequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} audit events #{First}–#{Last} into {Archive}")]
    private static partial void LogPruned(ILogger logger, long count, long first, long last, string archive);
}
