using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Audit;

// The audit trail, continued: the digest: the checkpoints exported, and a trail compared with one exported earlier.
public sealed partial class AuditTrail
{
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
}
