using PimPortal.Core.Domain;
using PimPortal.Core.Policy;

namespace PimPortal.Tests.Policy;

/// <summary>
/// The policy at its edges and in its words — what mutation testing found untested: each boundary holds to the second
/// (exactly the limit passes, a second beyond fails), and each refusal says, word for word, what the requester reads.
/// </summary>
public sealed class PolicyEdgeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Me = Guid.NewGuid();
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    public static TheoryData<string, Func<ActivationPolicyInput, ActivationPolicyInput>, PolicyViolationCode, string> Refusals => new()
    {
        { "zero", i => i with { Duration = TimeSpan.Zero }, PolicyViolationCode.DurationInvalid, "Choose a duration greater than zero." },
        { "short", i => i with { Duration = ActivationPolicy.MinimumDuration - Second }, PolicyViolationCode.DurationTooShort, "The shortest activation is 5 min." },
        { "long", i => i with { Duration = TimeSpan.FromHours(8) + TimeSpan.FromMinutes(1) }, PolicyViolationCode.DurationOverMaximum, "The duration 8 h 1 min is longer than this role's maximum of 8 h." },
        {
            "past the eligibility", i => i with { Eligibility = Eligibility(end: Now.AddHours(1)), Duration = TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1) },
            PolicyViolationCode.DurationPastEligibility, "Your eligibility ends at 2026-11-27 10:00:00Z, so the activation must end by then: at most 1 h."
        },
        { "no justification", i => i with { Justification = "  " }, PolicyViolationCode.JustificationMissing, "Give a justification." },
        { "too few letters", i => i with { Justification = "ab." }, PolicyViolationCode.JustificationTooShort, "Say why you need the role: a justification needs at least 3 letters or digits." },
        { "too long", i => i with { Justification = new string('a', 501) }, PolicyViolationCode.JustificationTooLong, "The justification is 501 characters; at most 500 are accepted." },
        { "no ticket", i => i with { Settings = Settings(ticket: true), TicketSystem = " " }, PolicyViolationCode.TicketMissing, "Give the ticket number and the ticket system." },
        {
            "no code", i => i with { Settings = Settings(mfa: true) }, PolicyViolationCode.MfaRequired,
            "This role requires multi-factor authentication: enter the code from your authenticator app."
        },
        { "active", i => i with { HasOpenActivation = true }, PolicyViolationCode.AlreadyActive, "This role is already active for you at this scope; extend it instead." },
        { "pending", i => i with { HasPendingRequest = true }, PolicyViolationCode.AlreadyPending, "A request for this role is already waiting for approval." },
        {
            "standing", i => i with { HasStandingAssignment = true }, PolicyViolationCode.HeldStanding,
            "You already hold this role permanently in the directory (a standing assignment); ask a PIM administrator to make it eligible instead."
        },
        { "extension ended", i => Extension(i, Now), PolicyViolationCode.NotActive, "This activation has ended, so it cannot be extended." },
        { "extension of nothing", i => Extension(i, Now.AddHours(1)) with { HasOpenActivation = false, Duration = TimeSpan.FromHours(2) }, PolicyViolationCode.NotActive, "This activation has ended, so it cannot be extended." },
        {
            "extension not later", i => Extension(i, Now.AddHours(2)) with { Duration = TimeSpan.FromHours(2) }, PolicyViolationCode.ExtensionNotLater,
            "The activation already lasts until 2026-11-27 11:00:00Z; choose a longer duration to extend it."
        },
        { "extension scheduled", i => Extension(i, Now.AddHours(1)) with { Start = Now.AddHours(1), Duration = TimeSpan.FromHours(2) }, PolicyViolationCode.StartInvalid, "An extension starts when it is granted; it cannot be scheduled." },
        { "too far ahead", i => i with { Start = Now + ActivationPolicy.MaxScheduleAhead + Second }, PolicyViolationCode.StartInvalid, "An activation can be scheduled at most 30 days ahead." },
        {
            "too few approvers", i => i with { Settings = Settings(approval: 2), AvailableApprovers = 1, ApproverNames = ["Bob Brown", "Erin Evans"] }, PolicyViolationCode.NoApprovers,
            "This role needs 2 approvals but has 1 approvers other than you; ask a PIM administrator."
        },
        { "not configured", i => i with { Settings = null }, PolicyViolationCode.RoleNotConfigured, "This role has no settings, so it cannot be activated." },
        { "disabled", i => i with { PrincipalEnabled = false }, PolicyViolationCode.PrincipalDisabled, "Your account is disabled." },
        { "not started", i => i with { Eligibility = Eligibility(start: Now.AddHours(1)) }, PolicyViolationCode.EligibilityNotStarted, "Your eligibility starts at 2026-11-27 10:00:00Z." },
        { "ended", i => i with { Eligibility = Eligibility(start: Now.AddDays(-2), end: Now) }, PolicyViolationCode.EligibilityEnded, "Your eligibility ended at 2026-11-27 09:00:00Z." },
        { "removed", i => i with { Eligibility = Removed() }, PolicyViolationCode.NotEligible, "You are not eligible for this role." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void EachRefusal_SaysWhatIsWrong_InTheRequestersWords(string what, Func<ActivationPolicyInput, ActivationPolicyInput> change, PolicyViolationCode code, string message)
    {
        var decision = ActivationPolicy.Evaluate(change(Input()));

        Assert.Equal(PolicyVerdict.Deny, decision.Verdict);
        Assert.True(decision.Violations.Count == 1, $"{what}: {string.Join(" | ", decision.Violations.Select(v => v.Message))}");
        Assert.Equal((code, message), (decision.Violations[0].Code, decision.Violations[0].Message));
    }

    public static TheoryData<string, Func<ActivationPolicyInput, ActivationPolicyInput>> AtTheLimit => new()
    {
        { "the shortest", i => i with { Duration = ActivationPolicy.MinimumDuration } },
        { "the maximum", i => i with { Duration = TimeSpan.FromHours(8) } },
        { "to the eligibility's end", i => i with { Eligibility = Eligibility(end: Now.AddHours(1)), Duration = TimeSpan.FromHours(1) } },
        { "the fewest letters", i => i with { Justification = "a.b.c" } },
        { "the longest justification", i => i with { Justification = new string('a', ActivationRequest.MaxJustificationLength) } },
        { "the furthest start", i => i with { Start = Now + ActivationPolicy.MaxScheduleAhead } },
        { "an extension a minute longer", i => Extension(i, Now.AddHours(2)) with { Duration = TimeSpan.FromHours(2) + TimeSpan.FromMinutes(1) } },
        { "as many approvers as approvals", i => i with { Settings = Settings(approval: 2), AvailableApprovers = 2, ApproverNames = ["Bob Brown"] } },
        { "a proof exactly as old as allowed", i => i with { Settings = Settings(mfa: true), MfaVerifiedAt = Now - i.MfaFreshFor } },
        { "a proof given this instant", i => i with { Settings = Settings(mfa: true), MfaVerifiedAt = Now } },
    };

    [Theory]
    [MemberData(nameof(AtTheLimit))]
    public void ExactlyAtALimit_IsAllowed_AndEveryRequirementIsMet(string what, Func<ActivationPolicyInput, ActivationPolicyInput> change)
    {
        var decision = ActivationPolicy.Evaluate(change(Input()));

        Assert.True(decision.Violations.Count == 0, $"{what}: {string.Join(" | ", decision.Violations.Select(v => v.Message))}");
        Assert.All(decision.Requirements.Where(r => r.Kind != PolicyRequirementKind.Approval), r => Assert.True(r.IsMet, $"{what}: {r.Description}"));
    }

    [Fact]
    public void TheRequirements_AreWorded_AndMetOnlyWhenTheyAre()
    {
        var met = ActivationPolicy.Evaluate(Input() with { Settings = Settings(mfa: true, ticket: true, approval: 1), MfaVerifiedAt = Now.AddMinutes(-1) });
        var unmet = ActivationPolicy.Evaluate(Input() with
        {
            Settings = Settings(mfa: true, ticket: true, approval: 1), Duration = ActivationPolicy.MinimumDuration - Second, Justification = "ab", TicketNumber = null,
        });
        var minimumZero = ActivationPolicy.Evaluate(Input() with { Justification = ".", JustificationMinimum = 0 });

        Assert.Equal(
            [
                (PolicyRequirementKind.Duration, "Duration of at most 8 h", true), (PolicyRequirementKind.Justification, "A justification", true),
                (PolicyRequirementKind.Ticket, "A ticket number and its system", true),
                (PolicyRequirementKind.Mfa, "Multi-factor authentication (proved in the last few minutes)", true),
                (PolicyRequirementKind.Approval, "Approval by 1 of: the role's approvers", false),
            ],
            met.Requirements.Select(r => (r.Kind, r.Description, r.IsMet)));
        Assert.Equal(
            [
                (PolicyRequirementKind.Duration, false), (PolicyRequirementKind.Justification, false), (PolicyRequirementKind.Ticket, false),
                (PolicyRequirementKind.Mfa, false), (PolicyRequirementKind.Approval, false),
            ],
            unmet.Requirements.Select(r => (r.Kind, r.IsMet)));
        Assert.Equal("Multi-factor authentication at this moment", Assert.Single(unmet.Requirements, r => r.Kind == PolicyRequirementKind.Mfa).Description);

        // With no minimum configured a punctuation-only reason is not refused, but it does not count as given either.
        Assert.Empty(minimumZero.Violations);
        Assert.False(Assert.Single(minimumZero.Requirements, r => r.Kind == PolicyRequirementKind.Justification).IsMet);
    }

    [Fact]
    public void AnMfaProof_SparesCodes_FromItsMomentToTheEndOfItsWindow_AndNotBeyondEitherSide()
    {
        var fresh = TimeSpan.FromMinutes(5);

        Assert.Equal(Now, ActivationPolicy.MfaFreshUntil(Now - fresh, fresh, Now));
        Assert.Equal(Now + fresh, ActivationPolicy.MfaFreshUntil(Now, fresh, Now));
        Assert.Null(ActivationPolicy.MfaFreshUntil(Now - fresh - Second, fresh, Now));
        Assert.Null(ActivationPolicy.MfaFreshUntil(Now + Second, fresh, Now));
        Assert.Null(ActivationPolicy.MfaFreshUntil(null, fresh, Now));
    }

    [Fact]
    public void TheLongestAllowed_IsTheMaximum_CutAtTheEligibilitysEnd_AndNothingOnceItEnded()
    {
        var settings = Settings(max: TimeSpan.FromHours(4));

        Assert.Equal(TimeSpan.FromHours(4), ActivationPolicy.LongestAllowed(settings, Eligibility(), Now));
        Assert.Equal(TimeSpan.FromHours(4), ActivationPolicy.LongestAllowed(settings, Eligibility(end: Now.AddHours(4)), Now));
        Assert.Equal(TimeSpan.FromHours(1), ActivationPolicy.LongestAllowed(settings, Eligibility(end: Now.AddHours(1)), Now));
        Assert.Equal(TimeSpan.Zero, ActivationPolicy.LongestAllowed(settings, Eligibility(start: Now.AddDays(-2), end: Now), Now));
        Assert.Equal(TimeSpan.Zero, ActivationPolicy.LongestAllowed(settings, Eligibility(start: Now.AddDays(-2), end: Now.AddHours(-1)), Now));
        Assert.Equal(TimeSpan.FromHours(4), ActivationPolicy.LongestAllowed(settings, null, Now));
    }

    [Fact]
    public void AnEligibilitysProblems_ComeInOrder_EachWithWhyNothingWasGranted()
    {
        Assert.Equal([EligibilityProblem.AccountDisabled, EligibilityProblem.Removed], EligibilityUse.Problems(Removed(), accountEnabled: false, held: true, Now));
        Assert.Equal([EligibilityProblem.Missing], EligibilityUse.Problems(null, accountEnabled: true, held: true, Now));
        Assert.Equal([EligibilityProblem.Removed], EligibilityUse.Problems(Removed(), accountEnabled: true, held: false, Now));
        Assert.Equal([EligibilityProblem.NotStarted], EligibilityUse.Problems(Eligibility(start: Now.AddHours(1)), accountEnabled: true, held: false, Now));
        Assert.Equal([EligibilityProblem.NotHeld], EligibilityUse.Problems(Eligibility(), accountEnabled: true, held: false, Now));
        Assert.True(EligibilityUse.MayUse(Eligibility(), accountEnabled: true, held: true, Now));
        Assert.False(EligibilityUse.MayUse(Eligibility(), accountEnabled: true, held: false, Now));

        Assert.Equal(
            [
                "the requester's account is disabled", "the eligibility was removed", "the eligibility was removed", "the requester is no longer a member of the eligible group",
                "the eligibility has not started", "the eligibility has ended",
            ],
            Enum.GetValues<EligibilityProblem>().Select(EligibilityUse.WhyNothingWasGranted));
    }

    [Theory]
    [InlineData(RoleKind.DirectoryRole, ProtectedRoles.GlobalAdministratorTemplateId, true)]
    [InlineData(RoleKind.DirectoryRole, ProtectedRoles.PrivilegedRoleAdministratorTemplateId, true)]
    [InlineData(RoleKind.DirectoryRole, "fe930be7-5e62-47db-91af-98c3a49a38b1", false)]
    [InlineData(RoleKind.GroupMembership, ProtectedRoles.GlobalAdministratorTemplateId, false)]
    [InlineData(RoleKind.AzureResourceRole, ProtectedRoles.PrivilegedRoleAdministratorTemplateId, false)]
    public void OnlyTheTwoDirectoryRoles_AreProtected(RoleKind kind, string externalId, bool expected) =>
        Assert.Equal(expected, ProtectedRoles.IsProtected(new PrivilegedRole(Guid.NewGuid(), kind, "A role", externalId, "/", Settings())));

    private static ActivationPolicyInput Extension(ActivationPolicyInput input, DateTimeOffset currentEnd) =>
        input with { Kind = ActivationRequestKind.Extend, HasOpenActivation = true, CurrentNotAfter = currentEnd };

    private static RoleSettings Settings(bool mfa = false, bool ticket = false, int approval = 0, TimeSpan? max = null) =>
        new(max ?? TimeSpan.FromHours(8), mfa, requireJustification: true, ticket, requireApproval: approval > 0, approvalsNeeded: Math.Max(1, approval));

    private static RoleEligibility Eligibility(DateTimeOffset? start = null, DateTimeOffset? end = null) =>
        new(Guid.NewGuid(), Me, Guid.NewGuid(), "/", start ?? Now.AddDays(-1), end, Guid.NewGuid(), start ?? Now.AddDays(-1));

    private static RoleEligibility Removed()
    {
        var eligibility = Eligibility();
        eligibility.Remove(Now.AddMinutes(-1));
        return eligibility;
    }

    private static ActivationPolicyInput Input() =>
        new(Settings(), Eligibility(), PrincipalEnabled: true, Now, TimeSpan.FromHours(1), "Maintenance", "INC1", "ServiceNow", null, TimeSpan.FromMinutes(5),
            HasOpenActivation: false, HasPendingRequest: false);
}
