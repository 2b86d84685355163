using CsCheck;
using PimPortal.Core.Domain;

namespace PimPortal.Tests.Properties;

/// <summary>
/// <see cref="ReviewSchedule"/> over generated schedules that pass its own check: runs start in order, each ends before
/// the next starts, none starts after the end date or beyond the number of runs, and catching up opens each due run
/// exactly once. 10,000 schedules.
/// </summary>
public sealed class ReviewScheduleProperties
{
    private const int Cases = 10_000;
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<ReviewSchedule> Schedules =
        Gen.Select(Gen.Int[0, 3 * 365 * 24], Gen.Enum<ReviewFrequency>(), Gen.Int[1, ReviewSchedule.MaxDurationDays], Gen.Enum<ReviewEnd>(), Gen.Int[0, 4 * 365], Gen.Int[1, 40])
            .Select((startHours, frequency, days, end, endAfterDays, runs) =>
            {
                var start = Epoch.AddHours(startHours);
                return new ReviewSchedule(start, frequency, days, end,
                    end == ReviewEnd.OnDate ? start.AddDays(endAfterDays) : null, end == ReviewEnd.AfterRuns ? runs : null);
            })
            .Where(s => s.Problems().Count == 0);

    [Fact]
    public void Runs_StartInOrder_EndBeforeTheNext_AndStopWhereTheScheduleSays()
    {
        var recurring = 0;
        Schedules.Sample(schedule =>
        {
            var starts = Enumerable.Range(0, 60).Select(schedule.StartOf).TakeWhile(s => s is not null).Select(s => s!.Value).ToList();

            Assert.Equal(schedule.Start, starts[0]);
            for (var run = 1; run < starts.Count; run++)
            {
                Assert.True(starts[run] > starts[run - 1], $"run {run} does not start after run {run - 1}");
                Assert.True(schedule.EndOf(run - 1) <= starts[run], $"run {run - 1} is still open when run {run} starts");
            }

            Assert.All(starts, s => Assert.True(schedule.End != ReviewEnd.OnDate || s <= schedule.EndDate, "a run after the end date"));
            Assert.True(schedule.End != ReviewEnd.AfterRuns || starts.Count <= schedule.Runs, "more runs than asked");
            Assert.True(schedule.Frequency != ReviewFrequency.OneTime || starts.Count == 1, "a one-time review that runs again");
            if (starts.Count > 1)
            {
                Interlocked.Increment(ref recurring);
            }
        }, iter: Cases);

        Assert.True(recurring > Cases / 10, $"only {recurring} of {Cases} schedules ran more than once");
    }

    [Fact]
    public void CatchingUp_OpensEveryDueRunExactlyOnce_InAnySteps() =>
        Gen.Select(Schedules, Gen.Int[1, 800].Array[1, 6]).Sample((schedule, waits) =>
        {
            var now = schedule.Start;
            var opened = new List<int>();
            foreach (var days in waits)
            {
                now = now.AddDays(days);
                opened.AddRange(schedule.DueRuns(opened.Count, now));
            }

            var due = schedule.DueRuns(0, now).ToList();
            Assert.Equal(due, opened);
            Assert.All(opened, run => Assert.True(schedule.StartOf(run) <= now));
            Assert.True(schedule.StartOf(opened.Count) is not { } next || next > now, "a due run left unopened");
        }, iter: Cases);
}
