namespace PimPortal.Core.Domain;

#pragma warning disable CA1819 // Hashes are bytes; EF maps the arrays as they are.

/// <summary>
/// A seal over a run of audit events (as CloudTrail's digest files are): the events from <see cref="FirstEventId"/>
/// to <see cref="LastEventId"/>, how many, and the chain hash before and after them. Checkpoints are chained through
/// <see cref="PreviousHash"/> and kept when the events they seal are pruned; exported as a digest file they let the
/// trail be verified away from the database.
/// </summary>
public sealed class AuditCheckpoint
{
    private AuditCheckpoint()
    {
    }

    public AuditCheckpoint(
        long sequence, long firstEventId, long lastEventId, long eventCount, byte[] previousHash, byte[] hash,
        DateTimeOffset firstOccurredAt, DateTimeOffset lastOccurredAt, DateTimeOffset sealedAt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(eventCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(lastEventId, firstEventId);
        ArgumentNullException.ThrowIfNull(previousHash);
        ArgumentNullException.ThrowIfNull(hash);
        Sequence = sequence;
        FirstEventId = firstEventId;
        LastEventId = lastEventId;
        EventCount = eventCount;
        PreviousHash = previousHash;
        Hash = hash;
        FirstOccurredAt = firstOccurredAt;
        LastOccurredAt = lastOccurredAt;
        SealedAt = sealedAt;
    }

    /// <summary>1, 2, 3, … with no gaps; the primary key, so two instances sealing at once make one checkpoint.</summary>
    public long Sequence { get; private set; }

    public long FirstEventId { get; private set; }

    public long LastEventId { get; private set; }

    public long EventCount { get; private set; }

    /// <summary>The chain hash before the first event (the previous checkpoint's <see cref="Hash"/>; zeros for the first).</summary>
    public byte[] PreviousHash { get; private set; } = [];

    /// <summary>The chain hash after the last event.</summary>
    public byte[] Hash { get; private set; } = [];

    /// <summary>The earliest time of an event sealed here.</summary>
    public DateTimeOffset FirstOccurredAt { get; private set; }

    /// <summary>The latest time of an event sealed here (retention prunes a checkpoint when this is past).</summary>
    public DateTimeOffset LastOccurredAt { get; private set; }

    public DateTimeOffset SealedAt { get; private set; }
}

/// <summary>
/// A pruning of the audit trail under the retention period: the events through <see cref="ThroughEventId"/> were
/// written to <see cref="ArchiveFile"/> and deleted. Verification starts after it from <see cref="BoundaryHash"/>.
/// </summary>
public sealed class AuditPrune
{
    private AuditPrune()
    {
    }

    public AuditPrune(
        long afterEventId, long throughEventId, long throughCheckpoint, long eventCount, byte[] boundaryHash,
        string archiveFile, string archiveSha256, DateTimeOffset prunedAt)
    {
        ArgumentNullException.ThrowIfNull(boundaryHash);
        ArgumentException.ThrowIfNullOrWhiteSpace(archiveFile);
        ArgumentException.ThrowIfNullOrWhiteSpace(archiveSha256);
        AfterEventId = afterEventId;
        ThroughEventId = throughEventId;
        ThroughCheckpoint = throughCheckpoint;
        EventCount = eventCount;
        BoundaryHash = boundaryHash;
        ArchiveFile = archiveFile;
        ArchiveSha256 = archiveSha256;
        PrunedAt = prunedAt;
    }

    public long Id { get; private set; }

    /// <summary>Where the previous pruning stopped (0 for the first); unique, so two instances pruning at once prune once.</summary>
    public long AfterEventId { get; private set; }

    public long ThroughEventId { get; private set; }

    /// <summary>The last checkpoint whose events were pruned (pruning takes whole checkpoints).</summary>
    public long ThroughCheckpoint { get; private set; }

    public long EventCount { get; private set; }

    /// <summary>The chain hash after the last pruned event (that checkpoint's hash): where verification starts.</summary>
    public byte[] BoundaryHash { get; private set; } = [];

    /// <summary>The archive's file name (in <c>Pim:Audit:ArchiveDirectory</c>).</summary>
    public string ArchiveFile { get; private set; } = "";

    /// <summary>The archive file's SHA-256, hex.</summary>
    public string ArchiveSha256 { get; private set; } = "";

    public DateTimeOffset PrunedAt { get; private set; }
}
