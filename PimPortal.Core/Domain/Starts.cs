namespace PimPortal.Core.Domain;

/// <summary>
/// When something asked to start "now" or later starts: an activation, an eligibility, an access review. A start a
/// moment in the past (a form that sat open) still means now; one further back is refused, with words the user can act on.
/// </summary>
public static class Starts
{
    /// <summary>How far in the past a start may lie and still mean "now".</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>Why <paramref name="start"/> cannot be taken at <paramref name="now"/> (it is in the past), or null when it can.</summary>
    public static string? InThePast(DateTimeOffset? start, DateTimeOffset now) =>
        start is { } s && s < now - Tolerance ? $"The start {s:u} is in the past; choose now or a later time." : null;

    /// <summary>The moment it starts: <paramref name="start"/> when that is later than now, else now.</summary>
    public static DateTimeOffset Effective(DateTimeOffset? start, DateTimeOffset now) => start is { } s && s > now ? s : now;

    /// <summary>Refuses a start in the past (<see cref="InThePast"/>).</summary>
    public static void RefuseInThePast(DateTimeOffset? start, DateTimeOffset now)
    {
        if (InThePast(start, now) is { } problem)
        {
            throw new DomainRuleException(problem);
        }
    }
}
