using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

/// <summary>When access reviews run (issue 7's schedule, ahead of the reviews themselves).</summary>
public sealed class ReviewScheduleTests
{
    private static readonly DateTimeOffset EndOfJanuary = new(2026, 1, 31, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Quarterly_RunsFourTimesAYear_CountingMonthsFromTheFirstStart()
    {
        var schedule = new ReviewSchedule(EndOfJanuary, ReviewFrequency.Quarterly, DurationDays: 14);

        var starts = Enumerable.Range(0, 5).Select(run => schedule.StartOf(run)!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));

        Assert.Empty(schedule.Problems());
        Assert.Equal(["2026-01-31", "2026-04-30", "2026-07-31", "2026-10-31", "2027-01-31"], starts);
        Assert.Equal(new DateTimeOffset(2026, 5, 14, 9, 0, 0, TimeSpan.Zero), schedule.EndOf(1));
    }

    [Fact]
    public void DueRuns_AreThoseStartedByNow_NotYetOpened()
    {
        var schedule = new ReviewSchedule(EndOfJanuary, ReviewFrequency.Quarterly, DurationDays: 14);
        var afterSummer = new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal([0, 1, 2], schedule.DueRuns(0, afterSummer));
        Assert.Equal([2], schedule.DueRuns(2, afterSummer));
        Assert.Empty(schedule.DueRuns(3, afterSummer));
        Assert.Empty(schedule.DueRuns(0, EndOfJanuary.AddTicks(-1)));
    }

    [Theory]
    [InlineData(ReviewEnd.AfterRuns, 2, null, 2)]
    [InlineData(ReviewEnd.OnDate, null, "2026-07-31T09:00:00Z", 3)]
    [InlineData(ReviewEnd.OnDate, null, "2026-07-31T08:59:59Z", 2)]
    [InlineData(ReviewEnd.Never, null, null, 9)]
    public void Ends_AfterRuns_OnADate_OrNever(ReviewEnd end, int? runs, string? endDate, int expected)
    {
        var schedule = new ReviewSchedule(EndOfJanuary, ReviewFrequency.Quarterly, 14, end, endDate is null ? null : DateTimeOffset.Parse(endDate, System.Globalization.CultureInfo.InvariantCulture), runs);

        Assert.Empty(schedule.Problems());
        Assert.Equal(expected, schedule.DueRuns(0, EndOfJanuary.AddYears(2)).Count());
    }

    [Fact]
    public void OneTime_RunsOnce()
    {
        var schedule = new ReviewSchedule(EndOfJanuary, ReviewFrequency.OneTime, DurationDays: 30);

        Assert.Equal([0], schedule.DueRuns(0, EndOfJanuary.AddYears(1)));
    }

    [Theory]
    [InlineData(ReviewFrequency.Weekly, 8, "must end before the next one starts: at most 7 days")]
    [InlineData(ReviewFrequency.Monthly, 0, "between 1 and 180 days")]
    [InlineData(ReviewFrequency.Annual, 181, "between 1 and 180 days")]
    public void Problems_AreNamed(ReviewFrequency frequency, int days, string problem)
    {
        var schedule = new ReviewSchedule(EndOfJanuary, frequency, days);

        Assert.Contains(schedule.Problems(), p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void AMonthlyReview_OpenLongerThanFebruary_IsRefused_EvenWhenItsFirstMonthIsLonger()
    {
        // Found by ReviewScheduleProperties: from 29 April, 30 days fit the first gap (to 29 May) but not the one after
        // February 2025 (28 February to 29 March, 29 days), where run 10 would still be open when run 11 started.
        var from29April = new DateTimeOffset(2024, 4, 29, 0, 0, 0, TimeSpan.Zero);

        Assert.Contains("A monthly review must end before the next one starts: at most 29 days.", new ReviewSchedule(from29April, ReviewFrequency.Monthly, 30).Problems());
        Assert.Empty(new ReviewSchedule(from29April, ReviewFrequency.Monthly, 29).Problems());
        Assert.Contains("A quarterly review must end before the next one starts: at most 90 days.", new ReviewSchedule(from29April, ReviewFrequency.Quarterly, 91).Problems());
    }

    [Fact]
    public void Problems_NameABadEnd_AndALocalStart()
    {
        Assert.Contains("The end date must be on or after the start.", new ReviewSchedule(EndOfJanuary, ReviewFrequency.Monthly, 7, ReviewEnd.OnDate, EndOfJanuary.AddDays(-1)).Problems());
        Assert.Contains("The number of runs must be between 1 and 1000.", new ReviewSchedule(EndOfJanuary, ReviewFrequency.Monthly, 7, ReviewEnd.AfterRuns).Problems());
        Assert.Contains("The start must be given in UTC.", new ReviewSchedule(EndOfJanuary.ToOffset(TimeSpan.FromHours(2)), ReviewFrequency.Monthly, 7).Problems());
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(ReviewSchedule.MaxDurationDays, true)]
    [InlineData(0, false)]
    [InlineData(ReviewSchedule.MaxDurationDays + 1, false)]
    public void AReviewStaysOpen_BetweenADayAndHalfAYear(int days, bool sound) =>
        Assert.Equal(sound, new ReviewSchedule(EndOfJanuary, ReviewFrequency.OneTime, days).Problems().Count == 0);

    [Theory]
    [InlineData(1, true)]
    [InlineData(ReviewSchedule.MaxRuns, true)]
    [InlineData(0, false)]
    [InlineData(ReviewSchedule.MaxRuns + 1, false)]
    public void AReviewEndingAfterRuns_HasBetweenOneAndAThousand(int runs, bool sound) =>
        Assert.Equal(sound, new ReviewSchedule(EndOfJanuary, ReviewFrequency.Monthly, 7, ReviewEnd.AfterRuns, Runs: runs).Problems().Count == 0);

    [Fact]
    public void AReviewEndingOnADate_MayEndOnItsStartDay_ButNotBefore()
    {
        Assert.Empty(new ReviewSchedule(EndOfJanuary, ReviewFrequency.Monthly, 7, ReviewEnd.OnDate, EndOfJanuary).Problems());
        Assert.Contains("The end date must be on or after the start.", new ReviewSchedule(EndOfJanuary, ReviewFrequency.Monthly, 7, ReviewEnd.OnDate).Problems());
    }

    [Fact]
    public void AWeeklyReview_MayStayOpenAWholeWeek_AndAYearlyOneHalfAYear()
    {
        Assert.Empty(new ReviewSchedule(EndOfJanuary, ReviewFrequency.Weekly, 7).Problems());
        Assert.Empty(new ReviewSchedule(EndOfJanuary, ReviewFrequency.Annual, ReviewSchedule.MaxDurationDays).Problems());
        Assert.Equal(["A review stays open between 1 and 180 days."], new ReviewSchedule(EndOfJanuary, ReviewFrequency.Weekly, 0).Problems());
    }
}
