using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

public sealed class OtherEntityTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Eligibility_IsValidOnlyInsideItsWindowAndUntilRemoved()
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", Now, Now.AddDays(30), Guid.NewGuid(), Now);

        Assert.False(eligibility.IsValidAt(Now.AddSeconds(-1)));
        Assert.True(eligibility.IsValidAt(Now));
        Assert.False(eligibility.IsValidAt(Now.AddDays(30)));

        eligibility.Remove(Now.AddDays(1));
        Assert.False(eligibility.IsValidAt(Now.AddDays(2)));
        Assert.Throws<DomainRuleException>(() => eligibility.Remove(Now.AddDays(2)));
    }

    [Fact]
    public void Eligibility_EndingBeforeItStarts_IsImpossible() =>
        Assert.Throws<DomainRuleException>(() => new RoleEligibility(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", Now, Now, Guid.NewGuid(), Now));

    [Theory]
    [InlineData(29)]
    [InlineData(24 * 60 + 1)]
    public void Settings_MaxDurationOutsideHalfAnHourToADay_IsRefused(int minutes) =>
        Assert.Throws<DomainRuleException>(() => new RoleSettings(TimeSpan.FromMinutes(minutes), true, true, false));

    [Fact]
    public void Settings_MoreApprovalsThanApprovers_IsRefused()
    {
        var settings = new RoleSettings(TimeSpan.FromHours(1), true, true, false, requireApproval: true);
        settings.AddApprover(Guid.NewGuid());
        settings.AddApprover(Guid.NewGuid());

        settings.SetApprovalsNeeded(2);
        Assert.Throws<DomainRuleException>(() => settings.SetApprovalsNeeded(3));
        Assert.Throws<DomainRuleException>(() => settings.SetApprovalsNeeded(0));
    }

    [Fact]
    public void Settings_AddingAnApproverTwice_KeepsOne()
    {
        var settings = new RoleSettings(TimeSpan.FromHours(1), true, true, false, requireApproval: true);
        var bob = Guid.NewGuid();

        settings.AddApprover(bob);
        settings.AddApprover(bob);

        Assert.Single(settings.Approvers);
    }

    [Fact]
    public void MfaState_RefusesTheSameOrAnEarlierStep()
    {
        var state = new MfaState(Guid.NewGuid());
        state.Verified(100, "s1", Now);

        Assert.Throws<DomainRuleException>(() => state.Verified(100, "s1", Now));
        Assert.Throws<DomainRuleException>(() => state.Verified(99, "s2", Now));
        state.Verified(101, "s1", Now);
        Assert.Equal(101, state.LastAcceptedTimeStep);
    }

    [Fact]
    public void MfaState_AProofCountsOnlyInTheSessionThatGaveIt()
    {
        var state = new MfaState(Guid.NewGuid());
        state.Verified(100, "browser-1", Now);

        Assert.Equal(Now, state.VerifiedIn("browser-1"));
        Assert.Null(state.VerifiedIn("browser-2"));
        Assert.Null(state.VerifiedIn(null));
    }

    [Fact]
    public void MfaState_FiveFailuresLockIt()
    {
        var state = new MfaState(Guid.NewGuid());
        for (var i = 0; i < 4; i++)
        {
            state.Failed(Now, TimeSpan.FromMinutes(5));
        }

        Assert.False(state.IsLockedAt(Now));
        state.Failed(Now, TimeSpan.FromMinutes(5));
        Assert.True(state.IsLockedAt(Now.AddMinutes(4)));
        Assert.False(state.IsLockedAt(Now.AddMinutes(5)));
    }

    [Fact]
    public void Principal_CannotManageItself()
    {
        var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, "Alice", "alice@contoso.test");

        Assert.Throws<DomainRuleException>(() => principal.SetManager(principal.Id));
    }

    [Fact]
    public void Principal_OnlyAUserCanBeBreakGlass()
    {
        var group = new Principal(Guid.NewGuid(), PrincipalKind.Group, "Ops", null);

        Assert.Throws<DomainRuleException>(() => group.MarkBreakGlass(true));
    }

    [Fact]
    public void Outbox_FailedThenCompleted_KeepsItsHistory()
    {
        var message = new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, Guid.NewGuid(), Now);

        message.Failed(new string('x', 3000), Now.AddSeconds(2));
        Assert.Equal((1, Now.AddSeconds(2), 2000), (message.Attempts, message.DueAt, message.LastError!.Length));

        message.Completed(Now.AddSeconds(3));
        Assert.Equal(Now.AddSeconds(3), message.ProcessedAt);
        Assert.Null(message.LastError);
    }
}
