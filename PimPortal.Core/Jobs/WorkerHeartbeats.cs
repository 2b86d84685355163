using System.Collections.Concurrent;

namespace PimPortal.Core.Jobs;

/// <summary>
/// When each background worker of this instance last finished a pass, and how often it should: the readiness probe
/// calls a worker that has not passed for three of its intervals stuck (a pass that fails does not count).
/// </summary>
public sealed class WorkerHeartbeats(TimeProvider time)
{
    /// <summary>How many intervals a worker may miss before it counts as stuck.</summary>
    public const int MissedIntervals = 3;

    private readonly ConcurrentDictionary<string, Beat> beats = new(StringComparer.Ordinal);

    /// <summary>A worker started: it is given its intervals from now before it must have passed.</summary>
    public void Started(string worker, TimeSpan interval) => beats[worker] = new(time.GetUtcNow(), interval, Passed: false);

    /// <summary>A worker finished a pass; it promises the next within <paramref name="interval"/>.</summary>
    public void Passed(string worker, TimeSpan interval) => beats[worker] = new(time.GetUtcNow(), interval, Passed: true);

    /// <summary>A worker stopped on purpose (nothing to do in this configuration, or shutdown): no longer watched.</summary>
    public void Stopped(string worker) => beats.TryRemove(worker, out _);

    /// <summary>The workers that have not passed within <see cref="MissedIntervals"/> of their intervals, with how long since.</summary>
    public IReadOnlyList<string> Stuck()
    {
        var now = time.GetUtcNow();
        return [.. beats.Where(b => now - b.Value.At > b.Value.Interval * MissedIntervals).OrderBy(b => b.Key, StringComparer.Ordinal)
            .Select(b => $"{b.Key} has not {(b.Value.Passed ? "passed" : "finished a first pass")} for {(now - b.Value.At).TotalSeconds:0} s (every {b.Value.Interval.TotalSeconds:0.#} s)")];
    }

    /// <summary>How many workers are watched (for the readiness report).</summary>
    public int Count => beats.Count;

    private sealed record Beat(DateTimeOffset At, TimeSpan Interval, bool Passed);
}
