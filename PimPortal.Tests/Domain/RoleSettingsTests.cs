using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

/// <summary>
/// A role's settings as rules of their own, without a database (mutation testing found them tested only through the
/// handlers): each limit holds to its edge, and each refusal says what is allowed.
/// </summary>
public sealed class RoleSettingsTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Bob = Guid.NewGuid();
    private static readonly Guid Erin = Guid.NewGuid();

    [Fact]
    public void Approval_NeedsAsManyApproversAsApprovals_AndATimeoutBetweenAnHourAndTwoWeeks()
    {
        var settings = Settings();

        Assert.Equal("At least one approval is needed.", Refused(() => settings.SetApproval(true, 0, [Bob], TimeSpan.FromHours(24))));
        Assert.Equal("At least one approval is needed.", Refused(() => settings.SetApproval(false, 0, [], TimeSpan.FromHours(24))));
        Assert.Equal("Approval needs at least one approver.", Refused(() => settings.SetApproval(true, 1, [], TimeSpan.FromHours(24))));
        Assert.Equal("2 approvals cannot be met by 1 approvers.", Refused(() => settings.SetApproval(true, 2, [Bob], TimeSpan.FromHours(24))));
        Assert.Equal("A request must wait between 1 hour and 14 days for a decision.",
            Refused(() => settings.SetApproval(true, 1, [Bob], RoleSettings.MinimumApprovalTimeout - TimeSpan.FromSeconds(1))));
        Assert.Equal("A request must wait between 1 hour and 14 days for a decision.",
            Refused(() => settings.SetApproval(true, 1, [Bob], RoleSettings.MaximumApprovalTimeout + TimeSpan.FromSeconds(1))));
        Assert.False(settings.RequireApproval);

        settings.SetApproval(true, 2, [Bob, Erin], RoleSettings.MinimumApprovalTimeout);
        Assert.Equal((true, 2, RoleSettings.MinimumApprovalTimeout), (settings.RequireApproval, settings.ApprovalsNeeded, settings.ApprovalTimeout));
        Assert.Equal([Bob, Erin], settings.Approvers.Select(a => a.PrincipalId));

        // A new list replaces the old one: erin stays, bob goes, carol comes; turned off naming nobody, none are left.
        var carol = Guid.NewGuid();
        settings.SetApproval(true, 1, [Erin, carol], RoleSettings.MaximumApprovalTimeout);
        Assert.Equal([Erin, carol], settings.Approvers.Select(a => a.PrincipalId));
        Assert.Equal(RoleSettings.MaximumApprovalTimeout, settings.ApprovalTimeout);
        settings.SetApproval(false, 1, [], TimeSpan.FromHours(24));
        Assert.Equal((false, 0), (settings.RequireApproval, settings.Approvers.Count));
    }

    [Fact]
    public void ApprovalsNeeded_AreAtLeastOne_AndNoMoreThanTheApprovers_OnceThereAreAny()
    {
        var settings = Settings();
        settings.SetApproval(true, 1, [Bob, Erin], TimeSpan.FromHours(24));

        Assert.Equal("At least one approval is needed.", Refused(() => settings.SetApprovalsNeeded(0)));
        Assert.Equal("3 approvals cannot be met by 2 approvers.", Refused(() => settings.SetApprovalsNeeded(3)));
        settings.SetApprovalsNeeded(2);
        Assert.Equal(2, settings.ApprovalsNeeded);

        // Without approval on, the count is kept for when it is turned on.
        var off = Settings();
        off.SetApprovalsNeeded(3);
        Assert.Equal(3, off.ApprovalsNeeded);
    }

    [Fact]
    public void Approvers_AreEachListedOnce_AndTakenOffByName()
    {
        var settings = Settings();

        settings.AddApprover(Bob);
        settings.AddApprover(Bob);
        settings.AddApprover(Erin);
        settings.RemoveApprover(Bob);

        Assert.Equal([Erin], settings.Approvers.Select(a => a.PrincipalId));
    }

    [Theory]
    [InlineData(29, false)]
    [InlineData(30, true)]
    [InlineData(24 * 60, true)]
    [InlineData(24 * 60 + 1, false)]
    public void TheMaximumDuration_IsBetweenHalfAnHourAndADay(int minutes, bool allowed)
    {
        var settings = Settings();

        var error = Record.Exception(() => settings.SetMaxActivationDuration(TimeSpan.FromMinutes(minutes)));

        Assert.Equal(allowed, error is null);
        Assert.Equal(allowed ? TimeSpan.FromMinutes(minutes) : TimeSpan.FromHours(8), settings.MaxActivationDuration);
        if (!allowed)
        {
            Assert.Equal("The maximum activation duration must be between 30 minutes and 24 hours.", error!.Message);
        }
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(RoleSettings.MaximumAssignmentDays, true)]
    [InlineData(RoleSettings.MaximumAssignmentDays + 1, false)]
    public void AssignmentLimits_AreBetweenADayAndTenYears(int days, bool allowed)
    {
        var settings = Settings();

        var eligibility = Record.Exception(() => settings.SetEligibilityExpiry(false, days));
        var active = Record.Exception(() => settings.SetActiveAssignmentExpiry(true, days));

        Assert.Equal((allowed, allowed), (eligibility is null, active is null));
        if (allowed)
        {
            Assert.Equal((days, false, days, true), (settings.MaxEligibilityDays, settings.AllowPermanentEligibility, settings.MaxActiveAssignmentDays, settings.AllowPermanentActiveAssignment));
        }
        else
        {
            Assert.Equal("An eligibility may be limited to between 1 and 3650 days.", eligibility!.Message);
            Assert.Equal("An active assignment may be limited to between 1 and 3650 days.", active!.Message);
            Assert.Equal((365, true, 180, false), (settings.MaxEligibilityDays, settings.AllowPermanentEligibility, settings.MaxActiveAssignmentDays, settings.AllowPermanentActiveAssignment));
        }
    }

    [Fact]
    public void TheLatestEnd_IsNoneWherePermanentIsAllowed_OtherwiseTheLimitFromTheStart()
    {
        var settings = Settings();
        settings.SetEligibilityExpiry(true, 90);
        settings.SetActiveAssignmentExpiry(false, 7);

        Assert.Null(settings.LatestEnd(active: false, Start));
        Assert.Equal(Start.AddDays(7), settings.LatestEnd(active: true, Start));

        settings.SetEligibilityExpiry(false, 90);
        settings.SetActiveAssignmentExpiry(true, 7);
        Assert.Equal(Start.AddDays(90), settings.LatestEnd(active: false, Start));
        Assert.Null(settings.LatestEnd(active: true, Start));
    }

    [Fact]
    public void AnAssignmentWindow_IsHeldToTheRolesRules_ToTheSecond()
    {
        var settings = Settings();
        settings.SetEligibilityExpiry(false, 90);
        settings.SetActiveAssignmentExpiry(false, 7);

        Assert.Equal("An eligibility for this role cannot be permanent; it may last at most 90 days.", Refused(() => settings.CheckAssignmentWindow(false, Start, null)));
        Assert.Equal("An eligibility for this role cannot be permanent; it may last at most 90 days.", Refused(() => settings.CheckAssignmentWindow(false, Start, null, breakGlass: true)));
        Assert.Equal("An active assignment of this role cannot be permanent (only a break-glass account's can); it may last at most 7 days.",
            Refused(() => settings.CheckAssignmentWindow(true, Start, null)));
        settings.CheckAssignmentWindow(true, Start, null, breakGlass: true);

        Assert.Equal("The end must be after the start.", Refused(() => settings.CheckAssignmentWindow(false, Start, Start)));
        settings.CheckAssignmentWindow(false, Start, Start.AddSeconds(1));
        settings.CheckAssignmentWindow(false, Start, Start.AddDays(90));
        Assert.Equal("An eligibility for this role may last at most 90 days (until 2027-02-25).", Refused(() => settings.CheckAssignmentWindow(false, Start, Start.AddDays(90).AddSeconds(1))));
        settings.CheckAssignmentWindow(true, Start, Start.AddDays(7));
        Assert.Equal("An active assignment of this role may last at most 7 days (until 2026-12-04).", Refused(() => settings.CheckAssignmentWindow(true, Start, Start.AddDays(7).AddSeconds(1))));

        // Where permanent is allowed, so is any length.
        settings.SetEligibilityExpiry(true, 90);
        settings.CheckAssignmentWindow(false, Start, null);
        settings.CheckAssignmentWindow(false, Start, Start.AddDays(400));
        Assert.Equal("The end must be after the start.", Refused(() => settings.CheckAssignmentWindow(false, Start, Start.AddDays(-1))));
    }

    [Fact]
    public void NotificationRules_ArePerEvent_ReplacedWhole_AndNobodyIsToldUnlessSet()
    {
        var settings = Settings();

        var unset = settings.RuleFor(RoleNotificationEvent.Activated);
        settings.SetNotificationRule(new RoleNotificationRule(RoleNotificationEvent.Activated, true, false, ["soc@contoso.test"]));
        settings.SetNotificationRule(new RoleNotificationRule(RoleNotificationEvent.Activated, false, true, []));
        settings.SetNotificationRule(new RoleNotificationRule(RoleNotificationEvent.EligibilityAssigned, true, false, []));

        Assert.Equal((RoleNotificationEvent.Activated, false), (unset.Event, unset.NotifiesAnyone));
        var activated = settings.RuleFor(RoleNotificationEvent.Activated);
        Assert.Equal((false, true, ""), (activated.NotifyAdministrators, activated.NotifyAssignee, activated.AdditionalRecipients));
        Assert.True(settings.RuleFor(RoleNotificationEvent.EligibilityAssigned).NotifyAdministrators);
        Assert.False(settings.RuleFor(RoleNotificationEvent.ActiveAssigned).NotifiesAnyone);
        Assert.Equal(2, settings.NotificationRules.Count);
    }

    [Fact]
    public void ARulesRecipients_AreMailAddresses_EachOnce_WithinTheirLength()
    {
        var rule = new RoleNotificationRule(RoleNotificationEvent.Activated, false, false, [" soc@contoso.test ", "SOC@contoso.test", "", "it@contoso.test"]);

        Assert.Equal(["soc@contoso.test", "it@contoso.test"], rule.AdditionalAddresses);
        Assert.True(rule.NotifiesAnyone);
        Assert.Equal("\"soc@localhost\" is not a mail address (name@example.com).",
            Refused(() => new RoleNotificationRule(RoleNotificationEvent.Activated, false, false, ["soc@localhost"])));
        Assert.Equal("\"Soc <soc@contoso.test>\" is not a mail address (name@example.com).",
            Refused(() => new RoleNotificationRule(RoleNotificationEvent.Activated, false, false, ["Soc <soc@contoso.test>"])));
        var many = Enumerable.Range(0, 60).Select(i => $"security-team-{i:00}@contoso.test").ToList();
        Assert.StartsWith("The additional recipients are 1799 characters; at most 1000 are accepted", Refused(() => new RoleNotificationRule(RoleNotificationEvent.Activated, false, false, many)), StringComparison.Ordinal);
        Assert.Empty(new RoleNotificationRule(RoleNotificationEvent.Activated, false, false, []).AdditionalAddresses);
    }

    [Fact]
    public void Requirements_AreSetTogether_AndTouchingGivesANewVersion()
    {
        var settings = Settings();
        var version = settings.Version;

        settings.SetRequirements(requireMfa: false, requireJustification: false, requireTicket: true);
        settings.Touch();

        Assert.Equal((false, false, true), (settings.RequireMfa, settings.RequireJustification, settings.RequireTicket));
        Assert.NotEqual(version, settings.Version);
    }

    private static RoleSettings Settings() => new(TimeSpan.FromHours(8), requireMfa: true, requireJustification: true, requireTicket: false);

    private static string Refused(Action action) => Assert.Throws<DomainRuleException>(action).Message;
}
