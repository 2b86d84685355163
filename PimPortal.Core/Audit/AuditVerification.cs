using System.Globalization;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Audit;

/// <summary>What a verification of the audit trail found.</summary>
/// <param name="Intact">Every sealed event and checkpoint matches.</param>
/// <param name="EventsVerified">Sealed events whose chain hash was recomputed and matched.</param>
/// <param name="CheckpointsVerified">Checkpoints whose events were all there and matched.</param>
/// <param name="Unsealed">Events newer than the last checkpoint (sealed at the next pass; not yet covered).</param>
/// <param name="PrunedThrough">The last event pruned under the retention period (verification starts after it), if any.</param>
/// <param name="Break">The first broken place, when not intact.</param>
public sealed record AuditVerification(
    bool Intact, long EventsVerified, long CheckpointsVerified, long Unsealed, long? PrunedThrough, AuditBreak? Break, TimeSpan Elapsed)
{
    /// <summary>One line for people: what was checked and what was found.</summary>
    public string Summary => Intact
        ? string.Create(CultureInfo.InvariantCulture, $"Intact: {EventsVerified:N0} events in {CheckpointsVerified:N0} checkpoints verified in {Elapsed.TotalSeconds:0.0} s") +
          (Unsealed > 0 ? string.Create(CultureInfo.InvariantCulture, $"; {Unsealed:N0} newer events are not sealed yet") : "") +
          (PrunedThrough is { } p ? string.Create(CultureInfo.InvariantCulture, $"; events through #{p} were pruned and archived") : "") + "."
        : $"Broken: {Break!.Message}";
}

/// <summary>Writes the chain hash through an event into <paramref name="next"/>, given the one before it.</summary>
public delegate void NextHash(ReadOnlySpan<byte> previous, Span<byte> next);

/// <summary>The first place where the trail does not match its seals.</summary>
/// <param name="Kind">
/// <c>edited</c> (an event's content changed), <c>removed</c> (a sealed event is gone), <c>inserted</c> (an event that
/// was never sealed where sealed ones are), <c>checkpoint</c> (a checkpoint was changed or removed), <c>pruned</c> (a
/// pruning that the retention period, its checkpoints, its audit event or its archive do not bear out), <c>digest</c>
/// (the checkpoints or prunings differ from an exported digest: the trail was rewritten).
/// </param>
public sealed record AuditBreak(string Kind, string Message, long? EventId, long? Checkpoint);

/// <summary>
/// Walks the events in id order against their checkpoints, recomputing the chain, and stops at the first broken
/// place. Used on the database and on archive files alike.
/// </summary>
internal sealed class AuditChainWalker
{
    private readonly IReadOnlyList<AuditCheckpoint> _checkpoints;
    private readonly AuditChain.Hasher _hasher = new();
    private readonly byte[] _expected;
    private readonly byte[] _next = new byte[AuditChain.HashSize];
    private int _index;
    private long _inCheckpoint;
    private long? _firstMismatch;
    private string? _firstMismatchText;
    private long _earliest = long.MaxValue;
    private long _latest = long.MinValue;

    /// <param name="checkpoints">The checkpoints after the start, in sequence order.</param>
    /// <param name="startHash">The chain hash before the first event to come.</param>
    public AuditChainWalker(IReadOnlyList<AuditCheckpoint> checkpoints, byte[] startHash, long afterEventId)
    {
        _checkpoints = checkpoints;
        _expected = (byte[])startHash.Clone();
        Break = CheckCheckpointChain(checkpoints, startHash, afterEventId);
    }

    public AuditBreak? Break { get; private set; }

    public long EventsVerified { get; private set; }

    public long CheckpointsVerified { get; private set; }

    public long Unsealed { get; private set; }

    /// <summary>Takes the next event (in id order); false once the trail is found broken (stop feeding it).</summary>
    public bool Add(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Add(e.Id, e.ChainHash, e.ChainHash is not null, e.OccurredAt, (previous, next) => _hasher.Next(previous, e, next), () => Describe(e));
    }

    /// <summary>
    /// Takes the next event as its id, stored chain hash and a way to compute the chain hash through it from the one
    /// before (the database may compute its canonical bytes itself); <paramref name="describe"/> is asked only for an
    /// event that breaks the chain.
    /// </summary>
    public bool Add(long id, ReadOnlySpan<byte> chainHash, bool isSealed, DateTimeOffset occurredAt, NextHash computeNext, Func<string> describe)
    {
        ArgumentNullException.ThrowIfNull(computeNext);
        ArgumentNullException.ThrowIfNull(describe);
        if (Break is not null)
        {
            return false;
        }

        while (_index < _checkpoints.Count && id > _checkpoints[_index].LastEventId)
        {
            if (!CloseCheckpoint())
            {
                return false;
            }
        }

        if (_index == _checkpoints.Count)
        {
            if (isSealed)
            {
                Break = new AuditBreak("inserted", $"Event #{id} ({describe()}) carries a seal that no checkpoint made: it was added afterwards.", id, null);
                return false;
            }

            Unsealed++;
            return true;
        }

        var checkpoint = _checkpoints[_index];
        if (id < checkpoint.FirstEventId)
        {
            Break = new AuditBreak("inserted",
                $"Event #{id} ({describe()}) lies between checkpoint {checkpoint.Sequence - 1} and checkpoint {checkpoint.Sequence}, which sealed no such event: it was added afterwards.",
                id, checkpoint.Sequence);
            return false;
        }

        _inCheckpoint++;
        _earliest = Math.Min(_earliest, occurredAt.UtcTicks);
        _latest = Math.Max(_latest, occurredAt.UtcTicks);
        if (_firstMismatch is not null)
        {
            // Broken already inside this checkpoint: only counting on, to tell an edit from a removal or an insertion.
            return true;
        }

        computeNext(_expected, _next);
        if (!isSealed || !_next.AsSpan().SequenceEqual(chainHash))
        {
            _firstMismatch = id;
            _firstMismatchText = describe();
            return true;
        }

        _next.CopyTo(_expected, 0);
        EventsVerified++;
        return true;
    }

    /// <summary>After the last event: closes the remaining checkpoints and says what was found.</summary>
    public AuditVerification Finish(long? prunedThrough, TimeSpan elapsed)
    {
        while (Break is null && _index < _checkpoints.Count)
        {
            CloseCheckpoint();
        }

        return new AuditVerification(Break is null, EventsVerified, CheckpointsVerified, Unsealed, prunedThrough, Break, elapsed);
    }

    private bool CloseCheckpoint()
    {
        var checkpoint = _checkpoints[_index];
        var range = $"checkpoint {checkpoint.Sequence} sealed {checkpoint.EventCount:N0} events from #{checkpoint.FirstEventId} to #{checkpoint.LastEventId}, {_inCheckpoint:N0} are there";
        if (_firstMismatch is { } first)
        {
            var at = $"event #{first} ({_firstMismatchText})";
            Break = _inCheckpoint < checkpoint.EventCount
                ? new AuditBreak("removed", $"An event before {at} was removed ({range}).", first, checkpoint.Sequence)
                : _inCheckpoint > checkpoint.EventCount
                    ? new AuditBreak("inserted", $"{Capitalize(at)} was added after sealing ({range}).", first, checkpoint.Sequence)
                    : new AuditBreak("edited", $"{Capitalize(at)} was changed after it was sealed in checkpoint {checkpoint.Sequence}, or moved from another place.", first, checkpoint.Sequence);
            return false;
        }

        if (_inCheckpoint != checkpoint.EventCount)
        {
            Break = new AuditBreak("removed", $"The last events of checkpoint {checkpoint.Sequence} were removed ({range}).", checkpoint.LastEventId, checkpoint.Sequence);
            return false;
        }

        if (!_expected.AsSpan().SequenceEqual(checkpoint.Hash))
        {
            Break = new AuditBreak("checkpoint", $"Checkpoint {checkpoint.Sequence} does not match the events it sealed: the checkpoint was changed.", null, checkpoint.Sequence);
            return false;
        }

        // Searches and retention go by the checkpoint's times: they must be its events'.
        if (_earliest != checkpoint.FirstOccurredAt.UtcTicks || _latest != checkpoint.LastOccurredAt.UtcTicks)
        {
            Break = new AuditBreak("checkpoint", $"Checkpoint {checkpoint.Sequence}'s times are not those of the events it sealed: the checkpoint was changed.", null, checkpoint.Sequence);
            return false;
        }

        CheckpointsVerified++;
        _index++;
        _inCheckpoint = 0;
        _earliest = long.MaxValue;
        _latest = long.MinValue;
        return true;
    }

    /// <summary>Each checkpoint must follow the one before: consecutive, chained by hash, over later events.</summary>
    internal static AuditBreak? CheckCheckpointChain(IReadOnlyList<AuditCheckpoint> checkpoints, byte[] startHash, long afterEventId)
    {
        var previousHash = startHash;
        var previousLast = afterEventId;
        long? previousSequence = null;
        foreach (var checkpoint in checkpoints)
        {
            if (previousSequence is { } p && checkpoint.Sequence != p + 1)
            {
                return new AuditBreak("checkpoint", $"Checkpoints {p + 1}–{checkpoint.Sequence - 1} are missing.", null, p + 1);
            }

            if (!checkpoint.PreviousHash.AsSpan().SequenceEqual(previousHash) || checkpoint.FirstEventId <= previousLast || checkpoint.LastEventId < checkpoint.FirstEventId)
            {
                return new AuditBreak("checkpoint", $"Checkpoint {checkpoint.Sequence} does not follow the one before it: a checkpoint was changed, removed or inserted.", null, checkpoint.Sequence);
            }

            previousHash = checkpoint.Hash;
            previousLast = checkpoint.LastEventId;
            previousSequence = checkpoint.Sequence;
        }

        return null;
    }

    internal static string Describe(AuditEvent e) => Describe(e.OccurredAt, e.Action, e.ActorName);

    internal static string Describe(DateTimeOffset occurredAt, string action, string actorName) =>
        string.Create(CultureInfo.InvariantCulture, $"{occurredAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC, {action} by {actorName}");

    private static string Capitalize(string text) => string.Concat(text[..1].ToUpperInvariant(), text.AsSpan(1));
}
