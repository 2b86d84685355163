namespace PimPortal.Core.Jobs;

/// <summary>How long a worker waits for the next thing due.</summary>
internal static class Overdue
{
    /// <summary>The pause before looking again at something that stays overdue after a pass (held by another instance, or failing).</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Until the next thing is due, at most <paramref name="longest"/>. Something already due (it fell due during the
    /// pass) is looked at again at once — but only once in a row: if it is still due after that, it waits a moment, so a
    /// row that cannot be handled never makes a tight loop.
    /// </summary>
    public static TimeSpan Wait(TimeSpan untilNext, TimeSpan longest, ref int streak)
    {
        if (untilNext > TimeSpan.Zero)
        {
            streak = 0;
            return untilNext < longest ? untilNext : longest;
        }

        return streak++ == 0 ? TimeSpan.Zero : Pause;
    }
}
