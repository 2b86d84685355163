namespace PimPortal.Core.Domain;

/// <summary>How often an access review runs.</summary>
public enum ReviewFrequency
{
    OneTime,
    Weekly,
    Monthly,
    Quarterly,
    SemiAnnual,
    Annual,
}

/// <summary>When a recurring access review stops.</summary>
public enum ReviewEnd
{
    Never,
    OnDate,
    AfterRuns,
}

/// <summary>
/// When an access review's instances run: the first starts at <see cref="Start"/>, the next a period later (months
/// are counted from the first start, so a review starting on 31 January runs on 30 April, 31 July, 31 October), each
/// open for <see cref="DurationDays"/>; it ends never, on <see cref="EndDate"/> (no instance starts after it) or after
/// <see cref="Runs"/> instances. An instance ends before the next one starts.
/// </summary>
public sealed record ReviewSchedule(DateTimeOffset Start, ReviewFrequency Frequency, int DurationDays, ReviewEnd End = ReviewEnd.Never, DateTimeOffset? EndDate = null, int? Runs = null)
{
    /// <summary>The longest an instance may stay open.</summary>
    public const int MaxDurationDays = 180;

    /// <summary>The most runs a review that ends after a number of runs may have.</summary>
    public const int MaxRuns = 1000;

    /// <summary>The problems with this schedule, in words an administrator can act on; empty when it is sound.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Start.Offset != TimeSpan.Zero)
        {
            problems.Add("The start must be given in UTC.");
        }

        if (DurationDays < 1 || DurationDays > MaxDurationDays)
        {
            problems.Add($"A review stays open between 1 and {MaxDurationDays} days.");
        }
        else if (Frequency != ReviewFrequency.OneTime && TimeSpan.FromDays(DurationDays) > ShortestGap())
        {
            problems.Add($"A {Frequency.ToString().ToLowerInvariant()} review must end before the next one starts: at most {Math.Floor(ShortestGap().TotalDays):0} days.");
        }

        switch (End)
        {
            case ReviewEnd.OnDate when EndDate is not { } end || end < Start:
                problems.Add("The end date must be on or after the start.");
                break;
            case ReviewEnd.AfterRuns when Runs is not (>= 1 and <= MaxRuns):
                problems.Add($"The number of runs must be between 1 and {MaxRuns}.");
                break;
        }

        return problems;
    }

    /// <summary>The start of instance <paramref name="run"/> (0 for the first), or null when the review has ended by then.</summary>
    public DateTimeOffset? StartOf(int run)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(run);
        if (run > 0 && Frequency == ReviewFrequency.OneTime)
        {
            return null;
        }

        if (End == ReviewEnd.AfterRuns && run >= Runs)
        {
            return null;
        }

        var start = Unbounded(run);
        return End == ReviewEnd.OnDate && start > EndDate ? null : start;
    }

    /// <summary>
    /// The shortest time between two runs' starts. Months differ (a review on the 29th runs on 28 February), so every
    /// gap over four years — a whole leap cycle of month lengths — is measured, not only the first.
    /// </summary>
    private TimeSpan ShortestGap() =>
        Enumerable.Range(0, Frequency == ReviewFrequency.Weekly ? 1 : 48).Min(run => Unbounded(run + 1) - Unbounded(run));

    /// <summary>The start of instance <paramref name="run"/> were the review never to end.</summary>
    private DateTimeOffset Unbounded(int run) => Frequency switch
    {
        ReviewFrequency.Weekly => Start.AddDays(7 * run),
        ReviewFrequency.Monthly => Start.AddMonths(run),
        ReviewFrequency.Quarterly => Start.AddMonths(3 * run),
        ReviewFrequency.SemiAnnual => Start.AddMonths(6 * run),
        ReviewFrequency.Annual => Start.AddYears(run),
        _ => Start,
    };

    /// <summary>When instance <paramref name="run"/> closes.</summary>
    public DateTimeOffset? EndOf(int run) => StartOf(run)?.AddDays(DurationDays);

    /// <summary>The instances due by <paramref name="now"/> that have not been opened yet (after <paramref name="opened"/> of them).</summary>
    public IEnumerable<int> DueRuns(int opened, DateTimeOffset now)
    {
        for (var run = opened; StartOf(run) is { } start && start <= now; run++)
        {
            yield return run;
        }
    }
}
