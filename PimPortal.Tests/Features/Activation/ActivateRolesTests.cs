using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Activation;

public sealed class ActivateRolesOnSqlite() : ActivateRolesTests(DatabaseKind.Sqlite);

public sealed class ActivateRolesOnPostgreSql() : ActivateRolesTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ActivateRolesOnSqlServer() : ActivateRolesTests(DatabaseKind.SqlServer);
#endif

public abstract class ActivateRolesTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoRole UserAdmin = DemoOrganisation.UserAdministrator;
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;

    [Fact]
    public async Task Activate_WithValidCode_GrantsForThatWindowWithAuditAndOutboxInOneGo()
    {
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);

        var result = await App.SendAs(Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(2))], "Reset a user's MFA", null, null, App.CodeFor(Alice)));

        var outcome = Assert.Single(result.Items);
        Assert.Equal(ActivationRequestStatus.Approved, outcome.RequestStatus);
        var activation = await App.ActivationAsync(outcome.ActivationId!.Value);
        Assert.Equal(ActivationStatus.Provisioning, activation.Status);
        Assert.Equal(TestApp.Start, activation.NotBefore);
        Assert.Equal(TestApp.Start.AddHours(2), activation.NotAfter);
        Assert.Equal(Alice.Id, activation.PrincipalId);
        var outbox = await App.Db(db => db.Outbox.SingleAsync());
        Assert.Equal((OutboxMessageType.ProvisionGrant, activation.Id), (outbox.Type, outbox.TargetId));

        var audit = await App.Db(db => db.AuditEvents.Where(e => e.ActorId == Alice.Id).OrderBy(e => e.Id).ToListAsync());
        Assert.Equal([AuditActions.MfaVerified, AuditActions.ActivationRequested, AuditActions.ActivationGranted], audit.Select(e => e.Action));
        Assert.All(audit, e =>
        {
            Assert.Equal(AuditOutcome.Success, e.Outcome);
            Assert.Equal(TestApp.Start, e.OccurredAt);
            Assert.Equal("203.0.113.7", e.ClientAddress);
            Assert.Equal("TestBrowser/1.0", e.UserAgent);
            Assert.Equal(audit[0].CorrelationId, e.CorrelationId);
        });
        Assert.False(string.IsNullOrEmpty(audit[0].CorrelationId));
        Assert.Contains("Reset a user's MFA", audit[1].Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Activate_ThenOutbox_IsActiveAndHeldInTheDirectory()
    {
        var outcome = await App.ActivateAsync(Alice, UserAdmin);

        Assert.Equal(1, await App.Outbox.ProcessBatchAsync(TestContext.Current.CancellationToken));

        var activation = await App.ActivationAsync(outcome.ActivationId!.Value);
        Assert.Equal(ActivationStatus.Active, activation.Status);
        Assert.Equal(TestApp.Start, activation.ConfirmedAt);
        var held = await App.Db(db => db.DirectoryAssignments.SingleAsync(a => a.ActivationId == activation.Id));
        Assert.Equal((Alice.Id, UserAdmin.Id, activation.NotAfter), (held.PrincipalId, held.RoleId, held.ExpiresAt!.Value));
        Assert.Single(await App.AuditAsync(AuditActions.ActivationProvisioned));
    }

    [Fact]
    public async Task Activate_RoleWithoutMfa_NeedsNoCode()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var result = await App.SendAs(Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(8))], "Mailbox migration", null, null, null));

        Assert.NotNull(Assert.Single(result.Items).ActivationId);
        Assert.Empty(await App.AuditAsync(AuditActions.MfaVerified));
    }

    [Fact]
    public async Task Activate_SomeoneElsesEligibility_IsRefusedAsNotEligibleAndWritesNothing()
    {
        var alicesGlobalAdmin = await App.EligibilityOf(Alice, DemoOrganisation.GlobalAdministrator);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Bob, new ActivateRoles(
            [new ActivationItem(alicesGlobalAdmin, TimeSpan.FromHours(1))], "Just looking", "INC1", "ServiceNow", App.CodeFor(DemoOrganisation.Bob))));

        Assert.Contains("not eligible", refused.Message, StringComparison.Ordinal);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_UnknownEligibilityId_IsRefusedAsNotEligible()
    {
        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(Guid.NewGuid(), TimeSpan.FromHours(1))], "Why not", null, null, null)));

        Assert.Equal("You are not eligible for this role.", refused.Message);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_EligibilityNotStartedYet_IsRefused()
    {
        var eligibility = await AddEligibilityAsync(Exchange, DemoOrganisation.Dave, notBefore: TestApp.Start.AddDays(1), notAfter: null);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Dave, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Early", null, null, null)));

        Assert.StartsWith("Your eligibility starts at", refused.Message, StringComparison.Ordinal);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_EligibilityEnded_IsRefused()
    {
        var eligibility = await AddEligibilityAsync(Exchange, DemoOrganisation.Dave, notBefore: TestApp.Start.AddDays(-10), notAfter: TestApp.Start.AddHours(1));
        App.Time.Advance(TimeSpan.FromHours(1));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Dave, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Late", null, null, null)));

        Assert.StartsWith("Your eligibility ended at", refused.Message, StringComparison.Ordinal);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_RemovedEligibility_IsRefused()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);
        await App.Db(async db =>
        {
            (await db.Eligibilities.SingleAsync(e => e.Id == eligibility)).Remove(App.Time.GetUtcNow());
            await db.SaveChangesAsync();
        });

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Removed", null, null, null)));

        Assert.Equal("You are not eligible for this role.", refused.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-60)]
    [InlineData(60 * 24 * 3650)]
    public async Task Activate_ZeroNegativeOrAbsurdDuration_IsRejectedBeforeTheHandler(int minutes)
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var invalid = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromMinutes(minutes))], "Bad duration", null, null, null)));

        Assert.Matches("greater than zero|longer than 24 hours", invalid.Message);
        await AssertNothingWritten();
    }

    [Fact]
    public async Task Activate_LongerThanTheRolesMaximum_IsRefused()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(8).Add(TimeSpan.FromMinutes(1)))], "A bit longer", null, null, null)));

        Assert.Equal("The duration 8 h 1 min is longer than this role's maximum of 8 h.", refused.Message);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_ShorterThanFiveMinutes_IsRefused()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromMinutes(2))], "Quick", null, null, null)));

        Assert.Equal("The shortest activation is 5 min.", refused.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("   ")]
    public async Task Activate_WithoutJustification_IsRefused(string? justification)
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], justification, null, null, null)));

        Assert.Equal("Give a justification.", refused.Message);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_OversizedJustification_IsRejected()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var invalid = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], new string('x', 501), null, null, null)));

        Assert.Equal("The justification can be at most 500 characters.", invalid.Message);
        await AssertNothingWritten();
    }

    [Fact]
    public async Task Activate_JustificationWithMarkup_IsStoredVerbatim()
    {
        const string markup = "<script>alert('x')</script><b>bold</b>";
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        await App.SendAs(Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], markup, null, null, null));

        Assert.Equal(markup, await App.Db(db => db.ActivationRequests.Select(r => r.Justification).SingleAsync()));
    }

    [Fact]
    public async Task Activate_RoleRequiringTicketWithoutOne_IsRefused()
    {
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.GlobalAdministrator);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Tenant change", "INC42", null, App.CodeFor(Alice))));

        Assert.Equal("Give the ticket number and the ticket system.", refused.Message);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_MfaRoleWithoutCode_IsRefusedAndAsksForTheCode()
    {
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Helpdesk", null, null, null)));

        Assert.Equal("This role requires multi-factor authentication: enter the code from your authenticator app.", refused.Message);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_WrongCode_IsRefusedAndOnlyTheFailureIsRecorded()
    {
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Helpdesk", null, null, App.WrongCodeFor(Alice))));

        Assert.Equal("The authenticator code is wrong or has expired.", refused.Message);
        Assert.Equal(0, await App.CountAsync<ActivationRequest>());
        Assert.Equal(0, await App.CountAsync<RoleActivation>());
        Assert.Equal(0, await App.CountAsync<OutboxMessage>());
        var failure = Assert.Single(await App.AuditAsync(AuditActions.MfaFailed));
        Assert.Equal((Alice.Id, AuditOutcome.Refused), (failure.ActorId!.Value, failure.Outcome));
    }

    [Fact]
    public async Task Activate_ExpiredCode_IsRefused()
    {
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);
        var old = App.CodeFor(Alice);
        App.Time.Advance(TimeSpan.FromSeconds(95));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Helpdesk", null, null, old)));

        Assert.Equal("The authenticator code is wrong or has expired.", refused.Message);
    }

    [Fact]
    public async Task Activate_CodeOfThePreviousStep_IsStillAcceptedForClockDrift()
    {
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);
        var previous = App.CodeFor(Alice);
        App.Time.Advance(TimeSpan.FromSeconds(30));

        var result = await App.SendAs(Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Helpdesk", null, null, previous));

        Assert.NotNull(Assert.Single(result.Items).ActivationId);
    }

    [Fact]
    public async Task Activate_ReplayedCode_IsRefusedOnceMfaIsNoLongerFresh()
    {
        var code = App.CodeFor(Alice);
        await App.ActivateAsync(Alice, UserAdmin);
        await App.Db(async db =>
        {
            // Make the proof stale but keep the clock inside the code's window: only the replay guard can refuse it.
            await db.MfaStates.ExecuteUpdateAsync(s => s.SetProperty(m => m.LastVerifiedAt, TestApp.Start.AddMinutes(-10)));
        });
        var contributor = await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(contributor, TimeSpan.FromHours(1))], "Deploy", null, null, code)));

        Assert.Equal("This authenticator code was already used; wait for the next one.", refused.Message);
        Assert.Equal(1, await App.CountAsync<RoleActivation>());
    }

    [Fact]
    public async Task Activate_WithinFiveMinutesOfAStepUp_NeedsNoNewCode()
    {
        await App.ActivateAsync(Alice, UserAdmin);
        App.Time.Advance(TimeSpan.FromMinutes(4));
        var contributor = await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd);

        var result = await App.SendAs(Alice, new ActivateRoles([new ActivationItem(contributor, TimeSpan.FromHours(1))], "Deploy", null, null, null));

        Assert.NotNull(Assert.Single(result.Items).ActivationId);
        var mfa = await App.Db(db => db.ActivationRequests.Where(r => r.RoleId == DemoOrganisation.ContributorOnRgProd.Id).Select(r => r.MfaVerifiedAt).SingleAsync());
        Assert.Equal(TestApp.Start, mfa);
    }

    [Fact]
    public async Task Activate_MoreThanFiveMinutesAfterAStepUp_NeedsACodeAgain()
    {
        await App.ActivateAsync(Alice, UserAdmin);
        App.Time.Advance(TimeSpan.FromMinutes(5).Add(TimeSpan.FromSeconds(1)));
        var contributor = await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(contributor, TimeSpan.FromHours(1))], "Deploy", null, null, null)));

        Assert.Equal("This role requires multi-factor authentication: enter the code from your authenticator app.", refused.Message);
    }

    [Fact]
    public async Task Activate_AfterFiveWrongCodes_StepUpIsLockedEvenForTheRightCode()
    {
        await StartAsync(new Dictionary<string, string?>(NoRateLimits)); // the lockout behind the rate limit
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);
        var wrong = App.WrongCodeFor(Alice);
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
                [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Guessing", null, null, wrong)));
        }

        var locked = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Guessing", null, null, App.CodeFor(Alice))));
        Assert.StartsWith("Too many wrong codes", locked.Message, StringComparison.Ordinal);

        App.Time.Advance(TimeSpan.FromMinutes(5));
        var result = await App.SendAs(Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Now", null, null, App.CodeFor(Alice)));
        Assert.NotNull(Assert.Single(result.Items).ActivationId);
    }

    [Fact]
    public async Task Activate_WrongCodesInParallel_AreEachCounted_AndLockStepUp()
    {
        await StartAsync(new Dictionary<string, string?>(NoRateLimits)); // the lockout behind the rate limit
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);
        var wrong = App.WrongCodeFor(Alice);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Guessing in parallel", null, null, wrong))))));

        // Every wrong code is counted until the fifth locks step-up; any still in flight then is refused as locked.
        Assert.InRange((await App.AuditAsync(AuditActions.MfaFailed)).Count, MfaState.MaxFailedAttempts, 8);
        var locked = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Now the right one", null, null, App.CodeFor(Alice))));
        Assert.StartsWith("Too many wrong codes", locked.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Activate_AfterThreeWrongCodes_TheNextWaits_BeforeAnyLockout_AndTheFloodIsAuditedOnce()
    {
        var eligibility = await App.EligibilityOf(Alice, UserAdmin);
        var wrong = App.WrongCodeFor(Alice);
        ActivateRoles Guess(string code) => new([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Guessing", null, null, code);
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, Guess(wrong)));
        }

        // The fourth — even the right code — waits; so do the next ten, from any address, and the code is not checked.
        var waits = await Assert.ThrowsAsync<RateLimitedException>(() => App.SendAs(Alice, Guess(App.CodeFor(Alice))));
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<RateLimitedException>(() => App.SendAs(Alice, Guess(wrong), new ClientInfo($"198.51.100.{i}", "Guesser/1.0")));
        }

        Assert.StartsWith("Too many code attempts: try again in ", waits.Message, StringComparison.Ordinal);
        Assert.InRange(waits.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        var state = await App.Db(db => db.MfaStates.SingleAsync(s => s.PrincipalId == Alice.Id));
        Assert.Equal((3, null), (state.FailedAttempts, state.LockedUntil));
        Assert.Equal(3, (await App.AuditAsync(AuditActions.MfaFailed)).Count);
        var limited = Assert.Single(await App.AuditAsync(AuditActions.MfaRateLimited));
        Assert.Contains("\"limit\":\"account\"", limited.Details, StringComparison.Ordinal);
        Assert.Empty(await App.Db(db => db.Activations.ToListAsync()));
    }

    [Fact]
    public async Task Activate_FromAnotherSession_NeedsItsOwnCode_EvenRightAfterAStepUp()
    {
        await App.ActivateAsync(Alice, UserAdmin);
        var contributor = await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd);
        var command = new ActivateRoles([new ActivationItem(contributor, TimeSpan.FromHours(1))], "Deploy", null, null, null);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, command, session: "a-stolen-cookie"));

        Assert.Contains("requires multi-factor authentication", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(Assert.Single((await App.SendAs(Alice, command)).Items).ActivationId);
    }

    [Fact]
    public async Task Activate_EndingAfterTheEligibility_IsRefused_AndThePreviewOffersWhatIsLeft()
    {
        var eligibility = await AddEligibilityAsync(Exchange, DemoOrganisation.Dave, notBefore: TestApp.Start.AddDays(-1), notAfter: TestApp.Start.AddMinutes(90));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Dave, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(2))], "Past my eligibility", null, null, null)));

        Assert.StartsWith("Your eligibility ends at", refused.Message, StringComparison.Ordinal);
        Assert.EndsWith("at most 1 h 30 min.", refused.Message, StringComparison.Ordinal);
        var preview = await App.QueryAs(DemoOrganisation.Dave, new PreviewActivation([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Why", null, null, false));
        Assert.Equal(TimeSpan.FromMinutes(90), preview.MaxDuration);
        Assert.True(preview.CanSubmit);
    }

    [Fact]
    public async Task Activate_RoleAlreadyActive_IsRefused()
    {
        await App.ActivateAsync(Alice, Exchange);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.ActivateAsync(Alice, Exchange));

        Assert.Equal("This role is already active for you at this scope; extend it instead.", refused.Message);
        Assert.Equal(1, await App.CountAsync<RoleActivation>());
    }

    [Fact]
    public async Task Activate_DoubleClick_GivesExactlyOneActivation()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);
        var command = new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Double click", null, null, null);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            try
            {
                await App.SendAs(Alice, command);
                return true;
            }
            catch (RefusedException)
            {
                return false;
            }
        })));

        Assert.Equal(1, attempts.Count(ok => ok));
        Assert.Equal(1, await App.CountAsync<RoleActivation>());
        Assert.Equal(1, await App.CountAsync<ActivationRequest>());
        Assert.Equal(1, await App.CountAsync<OutboxMessage>());
        Assert.Single(await App.AuditAsync(AuditActions.ActivationGranted));
    }

    [Fact]
    public async Task Activate_SameCodeForTwoRolesAtOnce_TheCodeIsAcceptedOnce()
    {
        var code = App.CodeFor(Alice);
        var userAdmin = await App.EligibilityOf(Alice, UserAdmin);
        var contributor = await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd);

        var attempts = await Task.WhenAll(new[] { userAdmin, contributor }.Select(id => Task.Run(async () =>
        {
            try
            {
                await App.SendAs(Alice, new ActivateRoles([new ActivationItem(id, TimeSpan.FromHours(1))], "Race", null, null, code));
                return true;
            }
            catch (RefusedException)
            {
                return false;
            }
        })));

        // Either the second request lost the race for the code (refused as a replay), or it started after the first
        // committed and rode on that fresh proof; never is the code verified twice.
        Assert.Single(await App.AuditAsync(AuditActions.MfaVerified));
        Assert.Equal(attempts.Count(ok => ok), await App.CountAsync<RoleActivation>());
        Assert.Contains(true, attempts);
    }

    [Fact]
    public async Task Activate_SeveralRolesTogether_OneJustificationAndOneCode()
    {
        var ids = new[] { UserAdmin, Exchange, DemoOrganisation.ContributorOnRgProd, DemoOrganisation.ProdDbOperators };
        var items = new List<ActivationItem>();
        foreach (var role in ids)
        {
            items.Add(new ActivationItem(await App.EligibilityOf(Alice, role), TimeSpan.FromHours(2)));
        }

        var result = await App.SendAs(Alice, new ActivateRoles(items, "Quarterly patching", null, null, App.CodeFor(Alice)));

        Assert.Equal(4, result.Items.Count);
        Assert.All(result.Items, i => Assert.NotNull(i.ActivationId));
        Assert.Single(await App.AuditAsync(AuditActions.MfaVerified));
        Assert.Equal(4, await App.CountAsync<OutboxMessage>());
    }

    [Fact]
    public async Task Activate_SeveralRolesWhereOneIsRefused_WritesNothing()
    {
        var items = new[]
        {
            new ActivationItem(await App.EligibilityOf(Alice, Exchange), TimeSpan.FromHours(1)),
            new ActivationItem(await App.EligibilityOf(Alice, DemoOrganisation.PrivilegedRoleAdministrator), TimeSpan.FromHours(3)),
        };

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(items, "All at once", "CHG7", "Jira", App.CodeFor(Alice))));

        Assert.Contains("Privileged Role Administrator: The duration 3 h is longer than this role's maximum of 2 h.", refused.Reasons);
        await AssertNothingWrittenButRefusal();
    }

    [Fact]
    public async Task Activate_RoleRequiringApproval_WaitsAsPendingWithoutAGrant()
    {
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.GlobalAdministrator);

        var result = await App.SendAs(Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Tenant setting", "INC9", "ServiceNow", App.CodeFor(Alice)));

        var outcome = Assert.Single(result.Items);
        Assert.Equal(ActivationRequestStatus.Pending, outcome.RequestStatus);
        Assert.Null(outcome.ActivationId);
        var request = await App.Db(db => db.ActivationRequests.SingleAsync());
        Assert.Equal((1, TestApp.Start.AddHours(24)), (request.ApprovalsNeeded, request.ExpiresAt!.Value));
        Assert.Equal(0, await App.CountAsync<RoleActivation>());
        Assert.Equal(0, await App.CountAsync<OutboxMessage>());

        App.NextCodeStep();
        var again = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Again", "INC9", "ServiceNow", null)));
        Assert.Equal("A request for this role is already waiting for approval.", again.Message);
    }

    [Fact]
    public async Task Activate_ByADisabledAccount_IsForbidden()
    {
        await App.Db(db => db.Principals.Where(p => p.Id == Alice.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsEnabled, false)));
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Still signed in", null, null, null)));

        Assert.Equal("Your account is disabled.", forbidden.Message);
        await AssertNothingWritten();
    }

    [Fact]
    public async Task Activate_Anonymously_IsForbidden()
    {
        var eligibility = await App.EligibilityOf(Alice, Exchange);

        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAsPrincipal(new System.Security.Claims.ClaimsPrincipal(),
            new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Anon", null, null, null)));

        Assert.Equal("Sign in first.", forbidden.Message);
    }

    private async Task<Guid> AddEligibilityAsync(DemoRole role, DemoAccount who, DateTimeOffset notBefore, DateTimeOffset? notAfter)
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), who.Id, role.Id, role.Scope, notBefore, notAfter, DemoOrganisation.Erin.Id, TestApp.Start);
        await App.Db(async db =>
        {
            db.Eligibilities.Add(eligibility);
            await db.SaveChangesAsync();
        });
        return eligibility.Id;
    }

    private async Task AssertNothingWritten()
    {
        Assert.Equal(0, await App.CountAsync<ActivationRequest>());
        Assert.Equal(0, await App.CountAsync<RoleActivation>());
        Assert.Equal(0, await App.CountAsync<OutboxMessage>());
        Assert.Empty(await App.Db(db => db.AuditEvents.Where(e => e.Action != AuditActions.DemoSeeded).ToListAsync()));
    }

    private async Task AssertNothingWrittenButRefusal()
    {
        Assert.Equal(0, await App.CountAsync<ActivationRequest>());
        Assert.Equal(0, await App.CountAsync<RoleActivation>());
        Assert.Equal(0, await App.CountAsync<OutboxMessage>());
        var audit = await App.Db(db => db.AuditEvents.Where(e => e.Action != AuditActions.DemoSeeded).ToListAsync());
        var refusal = Assert.Single(audit);
        Assert.Equal((AuditActions.ActivationRefused, AuditOutcome.Refused), (refusal.Action, refusal.Outcome));
    }
}
