using System.Data.Common;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Audit;

// The audit trail, continued: verifying the trail against its checkpoints and prunings.
public sealed partial class AuditTrail
{
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
}
