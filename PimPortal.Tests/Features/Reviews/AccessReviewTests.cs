using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Reviews;

public sealed class AccessReviewsOnSqlite() : AccessReviewTests(DatabaseKind.Sqlite);

public sealed class AccessReviewsOnPostgreSql() : AccessReviewTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class AccessReviewsOnSqlServer() : AccessReviewTests(DatabaseKind.SqlServer);
#endif

/// <summary>Access reviews: definitions, the worker that runs them on schedule, reviewers' decisions, and applying the results.</summary>
public abstract class AccessReviewTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;
    private static readonly DemoAccount Carol = DemoOrganisation.Carol;
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;
    private static readonly DemoRole GlobalAdmin = DemoOrganisation.GlobalAdministrator;
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;

    [Fact]
    public async Task QuarterlyReview_AcrossAYear_OpensEachRunOnce_RemindsDecidesAndRemoves()
    {
        var start = App.Time.GetUtcNow();
        var id = await App.StartReviewAsync(App.Review(GlobalAdmin, Exchange) with
        {
            Frequency = ReviewFrequency.Quarterly, End = ReviewEnd.AfterRuns, Runs = 4, DefaultDecision = ReviewDefaultDecision.Recommendation,
        });

        // Run 1: bob denies alice's Global Administrator and keeps her Exchange Administrator; his own line is not his to decide.
        var first = await App.LatestInstanceAsync(id);
        Assert.Equal((0, start, start.AddDays(14), ReviewInstanceStatus.Active), (first.Run, first.StartsAt, first.EndsAt, first.Status));
        var aliceGlobal = await App.LineAsync(first.Id, Alice, GlobalAdmin);
        Assert.Equal((ReviewDecision.Deny, ReviewLines.ReasonNever, ReviewItemFlags.NeverActivated), (aliceGlobal.Recommendation, aliceGlobal.RecommendationReason, aliceGlobal.Flags));
        await App.SendAs(Bob, new DecideReviewItems(first.Id, [new ReviewChoice(aliceGlobal.Id, ReviewDecision.Deny)], "Moved to the finance team"));
        await App.SendAs(Bob, new DecideReviewItems(first.Id, [new ReviewChoice((await App.LineAsync(first.Id, Alice, Exchange)).Id, ReviewDecision.Approve)], null));
        var bobsOwn = await App.LineAsync(first.Id, Bob, GlobalAdmin);
        var self = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Bob, new DecideReviewItems(first.Id, [new ReviewChoice(bobsOwn.Id, ReviewDecision.Approve)], null)));
        Assert.Contains("your own access", self.Message, StringComparison.Ordinal);

        // Alice uses Exchange Administrator once, two months in; then the year runs its course, a day at a time.
        await App.RunDaysUntilAsync(start.AddDays(60));
        await App.ActivateAsync(Alice, Exchange);
        await App.RunDaysUntilAsync(start.AddMonths(12).AddDays(20));

        var instances = await App.InstancesAsync(id);
        Assert.Equal([start, start.AddMonths(3), start.AddMonths(6), start.AddMonths(9)], instances.Select(i => i.StartsAt));
        Assert.All(instances, i => Assert.Equal(ReviewInstanceStatus.Applied, i.Status));
        Assert.Equal(4, (await App.AuditAsync(AuditActions.ReviewOpened)).Count);
        Assert.Equal(4, (await App.AuditAsync(AuditActions.ReviewReminded)).Count);
        Assert.All(instances, i => Assert.InRange(i.ReminderSentAt!.Value, i.StartsAt.AddDays(7), i.StartsAt.AddDays(8)));
        Assert.Equal(3, await App.Db(db => db.Notifications.CountAsync(n => n.RecipientId == Bob.Id && n.Kind == NotificationKind.ReviewAssigned)));

        // Run 1's denial removed alice's eligibility the day it ended, and the audit says who decided it and why; bob's
        // own undecided line took the recommendation (never activated: remove).
        Assert.NotNull(Assert.Single(await App.EligibilitiesAsync(Alice.Id, GlobalAdmin)).RemovedAt);
        Assert.NotNull(Assert.Single(await App.EligibilitiesAsync(Bob.Id, GlobalAdmin)).RemovedAt);
        var removal = Assert.Single(await App.AuditAsync(AuditActions.EligibilityRemoved), e => e.SubjectId == Alice.Id && e.RoleId == GlobalAdmin.Id);
        Assert.InRange(removal.OccurredAt, start.AddDays(14), start.AddDays(15));
        Assert.Equal("PimPortal", removal.ActorName);
        Assert.Contains("Moved to the finance team", removal.Details, StringComparison.Ordinal);
        Assert.Contains("Bob Brown", removal.Details, StringComparison.Ordinal);

        // Run 2: Global Administrator has nobody left to review; alice's Exchange line shows her activation and is kept.
        var second = await App.LinesAsync(instances[1].Id);
        Assert.DoesNotContain(second, l => l.RoleId == GlobalAdmin.Id);
        var exchange = Assert.Single(second);
        Assert.Equal((ReviewDecision.Approve, 1, start.AddDays(60), ReviewDecision.Approve), (exchange.Recommendation, exchange.ActivationCount, exchange.LastActivation, exchange.Decision));

        // Run 3, four months after her activation: not activated in 90 days, so the recommendation (remove) was taken.
        var third = Assert.Single(await App.LinesAsync(instances[2].Id));
        Assert.Equal((ReviewDecision.Deny, ReviewLines.ReasonStale(90), 0), (third.Recommendation, third.RecommendationReason, third.ActivationCount));
        Assert.Equal((ReviewDecision.Deny, "(default)", "Removed"), (third.Decision, third.DecidedByName, third.Outcome));
        Assert.NotNull(Assert.Single(await App.EligibilitiesAsync(Alice.Id, Exchange)).RemovedAt);

        // Run 4 has nothing left, and no fifth run follows.
        Assert.Empty(await App.LinesAsync(instances[3].Id));
        Assert.Null((await App.QueryAs(Carol, new GetAccessReview(id))).NextStart);
    }

    [Fact]
    public async Task TwoPortalInstances_OpenEachRunExactlyOnce()
    {
        await App.SendAs(Carol, new CreateAccessReview(App.Review(GlobalAdmin, Exchange) with
        {
            Start = App.Time.GetUtcNow().AddHours(1), Frequency = ReviewFrequency.Weekly, DurationDays = 3,
        }));
        Assert.Equal(0, await App.Reviews().OpenDueAsync(CancellationToken.None));
        App.Time.Advance(TimeSpan.FromHours(1));
        await using var second = App.SecondInstance();
        second.Time.SetUtcNow(App.Time.GetUtcNow());

        var opened = await Task.WhenAll(App.Reviews().OpenDueAsync(CancellationToken.None), second.Reviews().OpenDueAsync(CancellationToken.None));
        await App.Reviews().OpenDueAsync(CancellationToken.None);

        Assert.Equal(1, opened.Sum());
        var instance = Assert.Single(await App.Db(db => db.AccessReviewInstances.ToListAsync()));
        var eligible = await App.Db(db => db.Eligibilities.CountAsync(e => (e.RoleId == GlobalAdmin.Id || e.RoleId == Exchange.Id) && e.RemovedAt == null));
        Assert.Equal(eligible, instance.ItemCount);
        Assert.Equal(eligible, (await App.LinesAsync(instance.Id)).Count);
        Assert.Single(await App.AuditAsync(AuditActions.ReviewOpened));
    }

    [Fact]
    public async Task Lines_CarryActivity_Recommendations_Flags_AndReviewers()
    {
        await App.ActivateAsync(Alice, Exchange);
        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Messaging team"));
        await App.SendAs(Erin, new AssignEligibility(DemoOrganisation.ProdDbOperatorsGroupId, Exchange.Id, null, null, "Operators"));
        await App.SendAs(Erin, new AssignEligibility(DemoOrganisation.BreakGlass.Id, Exchange.Id, null, null, "Emergency"));
        await App.SendAs(Erin, new AssignEligibility(Bob.Id, Exchange.Id, null, null, "Cover"));
        await App.SendAs(Erin, new AssignActive(Carol.Id, Exchange.Id, App.Time.GetUtcNow().AddDays(60), "Migration"));
        await App.Db(async db =>
        {
            (await db.Principals.SingleAsync(p => p.Id == Bob.Id)).Disable();
            await db.SaveChangesAsync();
        });
        App.Time.Advance(TimeSpan.FromDays(10));

        var id = await App.StartReviewAsync(App.Review(Exchange) with { Assignments = ReviewAssignments.Both, ReviewerKind = ReviewerKind.Manager, ReviewerIds = [Erin.Id] });

        var instance = await App.LatestInstanceAsync(id);
        var lines = await App.LinesAsync(instance.Id);
        Assert.DoesNotContain(lines, l => l.PrincipalId == DemoOrganisation.BreakGlass.Id);
        var alice = lines.Single(l => l.PrincipalId == Alice.Id);
        Assert.Equal((ReviewItemKind.Eligible, 1, TestApp.Start, ReviewDecision.Approve, ReviewItemFlags.None, (Guid?)Carol.Id),
            (alice.Kind, alice.ActivationCount, alice.LastActivation, alice.Recommendation, alice.Flags, alice.ReviewerId));
        var dave = lines.Single(l => l.PrincipalId == Dave.Id);
        Assert.Equal((ReviewDecision.Deny, ReviewItemFlags.NeverActivated, (Guid?)null), (dave.Recommendation, dave.Flags, dave.ReviewerId));
        var group = lines.Single(l => l.PrincipalId == DemoOrganisation.ProdDbOperatorsGroupId);
        Assert.Equal(ReviewItemFlags.Group | ReviewItemFlags.NeverActivated, group.Flags);
        var bob = lines.Single(l => l.PrincipalId == Bob.Id);
        Assert.Equal((ReviewDecision.Deny, ReviewLines.ReasonDisabled, ReviewItemFlags.Disabled | ReviewItemFlags.NeverActivated, (Guid?)Carol.Id),
            (bob.Recommendation, bob.RecommendationReason, bob.Flags, bob.ReviewerId));
        var carol = lines.Single(l => l.PrincipalId == Carol.Id);
        Assert.Equal((ReviewItemKind.Active, ReviewItemFlags.None, ReviewLines.ReasonActiveAssignment), (carol.Kind, carol.Flags, carol.RecommendationReason));

        // Carol reviews the lines of those she manages; erin (the fallback) the rest — not carol's own active assignment
        // if carol were on the list, and never her own.
        var carols = await App.QueryAs(Carol, new GetMyReviewLines(instance.Id));
        Assert.Equal(["Alice Adams", "Bob Brown"], carols.Page.Select(l => l.PrincipalName));
        var erins = await App.QueryAs(Erin, new GetMyReviewLines(instance.Id));
        Assert.Equal(["Carol Clark", "Dave Davis", "Prod DB Operators"], erins.Page.Select(l => l.PrincipalName));
        await Assert.ThrowsAsync<ForbiddenException>(() => App.QueryAs(Dave, new GetMyReviewLines(instance.Id)));
        await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Deny)], "No")));
        Assert.Equal([(instance.Id, 2, 0)], (await App.QueryAs(Carol, new GetMyReviews())).Select(r => (r.InstanceId, r.Lines, r.Decided)));
    }

    [Fact]
    public async Task ADeniedActiveAssignment_IsEnded_AndRemovedFromTheDirectory()
    {
        var assignment = await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, App.Time.GetUtcNow().AddDays(60), "Migration"));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        Assert.True(await App.Db(db => db.DirectoryAssignments.AnyAsync(a => a.PrincipalId == Dave.Id && a.RoleId == Exchange.Id)));
        var id = await App.StartReviewAsync(App.Review(Exchange) with { Assignments = ReviewAssignments.Active });
        var instance = await App.LatestInstanceAsync(id);
        var line = Assert.Single(await App.LinesAsync(instance.Id));
        Assert.Equal((ReviewItemKind.Active, (Guid?)assignment, (Guid?)null), (line.Kind, line.ActivationId, line.EligibilityId));

        await App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(line.Id, ReviewDecision.Deny)], "Migration finished"));
        await App.SendAs(Carol, new EndReviewInstance(instance.Id, "Done"));
        await App.Reviews().RunAsync(CancellationToken.None);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var ended = await App.ActivationAsync(assignment);
        Assert.Equal(ActivationStatus.Revoked, ended.Status);
        Assert.Null(ended.EndedBy);
        var audit = Assert.Single(await App.AuditAsync(AuditActions.ActiveAssignmentRemoved));
        Assert.Contains("Migration finished", audit.Details, StringComparison.Ordinal);
        Assert.False(await App.Db(db => db.DirectoryAssignments.AnyAsync(a => a.PrincipalId == Dave.Id && a.RoleId == Exchange.Id)));
    }

    [Fact]
    public async Task OnlyInactive_ReviewsOnlyLinesNotActivatedForThatLong()
    {
        await App.ActivateAsync(Alice, Exchange);
        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Messaging team"));
        App.Time.Advance(TimeSpan.FromDays(5));

        var id = await App.StartReviewAsync(App.Review(Exchange) with { OnlyInactiveDays = 30 });

        Assert.Equal([Dave.Id], (await App.LinesAsync((await App.LatestInstanceAsync(id)).Id)).Select(l => l.PrincipalId));
    }

    [Fact]
    public async Task Decisions_NeedAReasonToDeny_ReplaceEachOther_AndCloseWithTheReview()
    {
        var id = await App.StartReviewAsync(App.Review(GlobalAdmin) with { RequireReasonOnApprove = true });
        var instance = await App.LatestInstanceAsync(id);
        var alice = await App.LineAsync(instance.Id, Alice, GlobalAdmin);

        var noReason = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Deny)], " ")));
        Assert.Contains("Say why", noReason.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Approve)], null)));
        await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Dave, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Approve)], "Fine")));

        await App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Deny)], "Not needed"));
        await App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Approve)], "Needed after all"));
        var decided = await App.LineAsync(instance.Id, Alice, GlobalAdmin);
        Assert.Equal((ReviewDecision.Approve, "Needed after all", "Bob Brown"), (decided.Decision, decided.Reason, decided.DecidedByName));
        var progress = await App.QueryAs(Bob, new GetMyReviewLines(instance.Id));
        Assert.Equal((1, 1), (progress.Lines, progress.Decided));

        App.Time.Advance(TimeSpan.FromDays(14));
        var closed = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Deny)], "Late")));
        Assert.Contains("closed", closed.Message, StringComparison.Ordinal);
        await App.Reviews().RunAsync(CancellationToken.None);
        Assert.Null(Assert.Single(await App.EligibilitiesAsync(Alice.Id, GlobalAdmin)).RemovedAt);
        Assert.Equal(ReviewInstanceStatus.Applied, (await App.LatestInstanceAsync(id)).Status);
    }

    [Fact]
    public async Task WithoutAutoApply_TheGovernanceLeadApplies_Once()
    {
        var id = await App.StartReviewAsync(App.Review(GlobalAdmin) with { AutoApply = false, DefaultDecision = ReviewDefaultDecision.Remove });
        var instance = await App.LatestInstanceAsync(id);
        await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Carol, new ApplyReviewResults(instance.Id)));

        await App.RunDaysUntilAsync(instance.EndsAt.AddDays(2));

        var lines = await App.LinesAsync(instance.Id);
        Assert.All(lines, l => Assert.Equal((ReviewDecision.Deny, "(default)", (DateTimeOffset?)null), (l.Decision, l.DecidedByName, l.AppliedAt)));
        Assert.Equal(ReviewInstanceStatus.Completed, (await App.LatestInstanceAsync(id)).Status);
        Assert.Null(Assert.Single(await App.EligibilitiesAsync(Alice.Id, GlobalAdmin)).RemovedAt);
        await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Bob, new ApplyReviewResults(instance.Id)));

        // Carol asks; the review worker applies in the background, in her name.
        Assert.Equal(lines.Count, await App.SendAs(Carol, new ApplyReviewResults(instance.Id)));
        Assert.Null(Assert.Single(await App.EligibilitiesAsync(Alice.Id, GlobalAdmin)).RemovedAt);
        var twice = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Carol, new ApplyReviewResults(instance.Id)));
        Assert.Contains("being applied already", twice.Message, StringComparison.Ordinal);
        var applied = await App.Services.GetRequiredService<ReviewResults>().ApplyAsync(instance.Id, CancellationToken.None);

        Assert.Equal(new ReviewApplication(lines.Count, 0), applied);
        Assert.NotNull(Assert.Single(await App.EligibilitiesAsync(Alice.Id, GlobalAdmin)).RemovedAt);
        var removal = Assert.Single(await App.AuditAsync(AuditActions.EligibilityRemoved), e => e.SubjectId == Alice.Id);
        Assert.Equal(Carol.Id, removal.ActorId);
        var again = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Carol, new ApplyReviewResults(instance.Id)));
        Assert.Contains("applied already", again.Message, StringComparison.Ordinal);
        Assert.Single(await App.AuditAsync(AuditActions.ReviewApplied));
    }

    [Fact]
    public async Task Applying_FromTwoPortalInstancesAtOnce_RemovesEachLineOnce()
    {
        // More lines than one batch, and the run already being applied (as after a restart): both instances resume it.
        await App.Db(async db =>
        {
            for (var i = 0; i < AccessReviewProcessor.ApplyBatch * 2 + 50; i++)
            {
                var user = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Operator {i:D3}", $"operator{i}@contoso.test");
                db.AddRange(user, new RoleEligibility(Guid.NewGuid(), user.Id, Exchange.Id, Exchange.Scope, App.Time.GetUtcNow(), null, Erin.Id, App.Time.GetUtcNow()));
            }

            await db.SaveChangesAsync();
        });
        var id = await App.StartReviewAsync(App.Review(GlobalAdmin, Exchange) with { DefaultDecision = ReviewDefaultDecision.Remove, AutoApply = false });
        var instance = await App.LatestInstanceAsync(id);
        App.Time.Advance(TimeSpan.FromDays(15));
        await App.Reviews().CompleteEndedAsync(CancellationToken.None);
        await App.Db(async db =>
        {
            (await db.AccessReviewInstances.SingleAsync(i => i.Id == instance.Id)).BeginApplying();
            await db.SaveChangesAsync();
        });
        await using var second = App.SecondInstance();
        second.Time.SetUtcNow(App.Time.GetUtcNow());

        await Task.WhenAll(App.Reviews().ApplyPendingAsync(CancellationToken.None), second.Reviews().ApplyPendingAsync(CancellationToken.None));

        var lines = await App.LinesAsync(instance.Id);
        Assert.True(lines.Count > AccessReviewProcessor.ApplyBatch * 2);
        Assert.All(lines, l => Assert.Equal("Removed", l.Outcome));
        var removals = await App.AuditAsync(AuditActions.EligibilityRemoved);
        Assert.Equal(lines.Count, removals.Count);
        Assert.Equal(lines.Count, removals.Select(e => e.TargetId).Distinct().Count());
        Assert.Equal(ReviewInstanceStatus.Applied, (await App.LatestInstanceAsync(id)).Status);
        Assert.Single(await App.AuditAsync(AuditActions.ReviewApplied));
    }

    [Fact]
    public async Task AGroupsLine_IsDecidedByAReviewerOutsideIt_AndADisabledPrincipalsOwnLine_GoesToTheFallback()
    {
        var group = DemoOrganisation.ProdDbOperatorsGroupId;
        await App.SendAs(Erin, new AssignEligibility(group, Exchange.Id, null, null, "Operators"));
        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Messaging"));
        await App.Db(async db =>
        {
            db.GroupMemberships.Add(new GroupMembership(group, Bob.Id));
            (await db.Principals.SingleAsync(p => p.Id == Dave.Id)).Disable();
            await db.SaveChangesAsync();
        });

        var id = await App.StartReviewAsync(App.Review(Exchange) with { ReviewerKind = ReviewerKind.Self, ReviewerIds = [Bob.Id, Erin.Id] });

        var instance = await App.LatestInstanceAsync(id);
        var lines = await App.LinesAsync(instance.Id);
        Assert.Equal((Guid?)Alice.Id, lines.Single(l => l.PrincipalId == Alice.Id).ReviewerId);
        Assert.Null(lines.Single(l => l.PrincipalId == Dave.Id).ReviewerId);
        var groupLine = lines.Single(l => l.PrincipalId == group);
        Assert.Null(groupLine.ReviewerId);
        var own = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(groupLine.Id, ReviewDecision.Approve)], null)));
        Assert.Contains("your own access", own.Message, StringComparison.Ordinal);
        Assert.DoesNotContain((await App.QueryAs(Bob, new GetMyReviewLines(instance.Id))).Page, l => l.PrincipalId == group);
        await App.SendAs(Erin, new DecideReviewItems(instance.Id, [new ReviewChoice(groupLine.Id, ReviewDecision.Approve)], null));
        Assert.Equal(ReviewDecision.Approve, (await App.LinesAsync(instance.Id)).Single(l => l.PrincipalId == group).Decision);
    }

    [Fact]
    public async Task ALineOfAnotherReview_CannotBeDecidedThroughThisOne_NorAfterItEnded()
    {
        var first = await App.LatestInstanceAsync(await App.StartReviewAsync(App.Review(GlobalAdmin)));
        var second = await App.LatestInstanceAsync(await App.StartReviewAsync(App.Review(Exchange) with { ReviewerIds = [Erin.Id] }));
        var foreign = await App.LineAsync(second.Id, Alice, Exchange);

        await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(Bob, new DecideReviewItems(first.Id, [new ReviewChoice(foreign.Id, ReviewDecision.Deny)], "Not needed")));

        var line = await App.LineAsync(first.Id, Alice, GlobalAdmin);
        await App.SendAs(Carol, new EndReviewInstance(first.Id, "Audit moved"));
        await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Bob, new DecideReviewItems(first.Id, [new ReviewChoice(line.Id, ReviewDecision.Deny)], "Late")));
        Assert.Equal(ReviewDecision.None, (await App.LineAsync(first.Id, Alice, GlobalAdmin)).Decision);
        Assert.Equal(ReviewDecision.None, (await App.LineAsync(second.Id, Alice, Exchange)).Decision);
    }

    [Fact]
    public async Task RunsWhoseWholeWindowPassed_AreRecordedAsMissed_NotOpenedLate()
    {
        var id = await App.SendAs(Carol, new CreateAccessReview(App.Review(GlobalAdmin) with
        {
            Start = App.Time.GetUtcNow().AddHours(1), Frequency = ReviewFrequency.Weekly, DurationDays = 2,
        }));
        App.Time.Advance(TimeSpan.FromDays(15));

        await App.Reviews().RunAsync(CancellationToken.None);

        var instances = await App.InstancesAsync(id);
        Assert.Equal([ReviewInstanceStatus.Missed, ReviewInstanceStatus.Missed, ReviewInstanceStatus.Active], instances.Select(i => i.Status));
        Assert.Equal(2, (await App.AuditAsync(AuditActions.ReviewMissed)).Count);
        Assert.Empty(await App.LinesAsync(instances[0].Id));
    }

    [Fact]
    public async Task EndingEarly_TakesTheDefault_AndStopping_OpensNoMoreRuns()
    {
        var id = await App.StartReviewAsync(App.Review(GlobalAdmin) with { Frequency = ReviewFrequency.Monthly, DefaultDecision = ReviewDefaultDecision.Approve });
        var instance = await App.LatestInstanceAsync(id);

        await App.SendAs(Carol, new EndReviewInstance(instance.Id, "Audit deadline moved"));
        await App.SendAs(Carol, new StopAccessReview(id, "Replaced by a quarterly review"));
        await App.RunDaysUntilAsync(TestApp.Start.AddMonths(3));

        Assert.All(await App.LinesAsync(instance.Id), l => Assert.Equal(ReviewDecision.Approve, l.Decision));
        Assert.Single(await App.InstancesAsync(id));
        var completed = Assert.Single(await App.AuditAsync(AuditActions.ReviewCompleted));
        Assert.Equal(Carol.Id, completed.ActorId);
        await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Carol, new StopAccessReview(id, "Again")));
    }

    [Fact]
    public async Task CreatingAReview_ChecksItsInput_AndWhoCreatesIt()
    {
        var review = App.Review(GlobalAdmin);
        await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new CreateAccessReview(review)));
        var bad = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Carol, new CreateAccessReview(review with
        {
            Name = " ", RoleIds = [], ReviewerIds = [], Frequency = ReviewFrequency.Weekly, DurationDays = 10,
        })));
        Assert.Contains("Give the review a name.", bad.Message, StringComparison.Ordinal);
        Assert.Contains("Choose at least one role", bad.Message, StringComparison.Ordinal);
        Assert.Contains("Name at least one reviewer", bad.Message, StringComparison.Ordinal);
        Assert.Contains("must end before the next one starts", bad.Message, StringComparison.Ordinal);
        var noFallback = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Carol, new CreateAccessReview(review with { ReviewerKind = ReviewerKind.Manager, ReviewerIds = [] })));
        Assert.Contains("Name a fallback reviewer", noFallback.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Carol, new CreateAccessReview(review with { Start = App.Time.GetUtcNow().AddDays(-2) })));
        await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(Carol, new CreateAccessReview(review with { RoleIds = [Guid.NewGuid()] })));
        Assert.Equal(0, await App.CountAsync<AccessReviewDefinition>());
    }

    [Fact]
    public async Task Report_ListsEveryLine_WithItsDecision_AsCsv_AndFormulasAsText()
    {
        var id = await App.StartReviewAsync(App.Review(GlobalAdmin) with { ReviewerIds = [Bob.Id, Erin.Id] });
        var instance = await App.LatestInstanceAsync(id);
        var alice = await App.LineAsync(instance.Id, Alice, GlobalAdmin);
        await App.SendAs(Bob, new DecideReviewItems(instance.Id, [new ReviewChoice(alice.Id, ReviewDecision.Deny)], "Left, \"finance\""));
        await App.SendAs(Erin, new DecideReviewItems(instance.Id, [new ReviewChoice((await App.LineAsync(instance.Id, Bob, GlobalAdmin)).Id, ReviewDecision.Deny)], "=HYPERLINK(\"http://x\")"));
        using var output = new MemoryStream();

        var rows = await App.SendAs(Carol, new ExportReviewReport(instance.Id, output));

        var csv = System.Text.Encoding.UTF8.GetString(output.ToArray()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, rows);
        Assert.StartsWith("principal,principalId,assignment,role", csv[0], StringComparison.Ordinal);
        Assert.StartsWith($"Alice Adams,{Alice.Id},Eligible,Global Administrator,", csv[1], StringComparison.Ordinal);
        Assert.Contains(",Deny,Bob Brown,", csv[1], StringComparison.Ordinal);
        Assert.Contains("\"Left, \"\"finance\"\"\"", csv[1], StringComparison.Ordinal);
        Assert.Contains(",\"'=HYPERLINK(\"\"http://x\"\")\",", csv[2], StringComparison.Ordinal);
        Assert.Single(await App.AuditAsync(AuditActions.ReviewReportExported));
    }
}
