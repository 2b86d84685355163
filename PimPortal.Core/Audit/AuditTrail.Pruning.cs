using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Audit;

// The audit trail, continued: pruning what the retention period lets go of, into archive files.
public sealed partial class AuditTrail
{
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

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit events were pruned by another instance")]
    private static partial void LogPrunedElsewhere(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pruned {Count} audit events #{First}–#{Last} into {Archive}")]
    private static partial void LogPruned(ILogger logger, long count, long first, long last, string archive);
}
