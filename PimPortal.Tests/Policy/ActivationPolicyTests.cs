using PimPortal.Core.Domain;
using PimPortal.Core.Policy;

namespace PimPortal.Tests.Policy;

public sealed class ActivationPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Me = Guid.NewGuid();

    [Fact]
    public void AllRequirementsMet_WithoutApproval_Allows()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(mfa: true, ticket: true), mfaAt: Now.AddMinutes(-1)));

        Assert.Equal(PolicyVerdict.Allow, decision.Verdict);
        Assert.Empty(decision.Violations);
        Assert.All(decision.Requirements, r => Assert.True(r.IsMet, r.Description));
        Assert.False(decision.NeedsMfaProof);
    }

    [Fact]
    public void ApprovalRole_AllElseMet_NeedsApproval_AndNamesTheApprovers()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(approval: 1), approvers: ["Bob Brown", "Erin Evans"]));

        Assert.Equal(PolicyVerdict.NeedsApproval, decision.Verdict);
        Assert.Contains(decision.Requirements, r => r is { Kind: PolicyRequirementKind.Approval, Description: "Approval by 1 of: Bob Brown, Erin Evans", IsMet: false });
    }

    [Fact]
    public void ApprovalRole_WithAViolation_DeniesRatherThanWaiting()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(approval: 1), justification: null, approvers: ["Bob Brown"]));

        Assert.Equal(PolicyVerdict.Deny, decision.Verdict);
    }

    [Fact]
    public void ApprovalRole_WithFewerApproversThanNeeded_Denies()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(approval: 2), approvers: ["Erin Evans"]));

        Assert.Equal(PolicyViolationCode.NoApprovers, Assert.Single(decision.Violations).Code);
    }

    [Fact]
    public void NoEligibility_DeniesAsNotEligible_EvenWithoutSettings()
    {
        var decision = ActivationPolicy.Evaluate(Input(null) with { Eligibility = null });

        Assert.Equal([PolicyViolationCode.NotEligible], decision.Violations.Select(v => v.Code));
    }

    [Fact]
    public void EligibleButRoleWithoutSettings_FailsClosed()
    {
        var decision = ActivationPolicy.Evaluate(Input(null));

        Assert.Equal(PolicyVerdict.Deny, decision.Verdict);
        Assert.Equal([PolicyViolationCode.RoleNotConfigured], decision.Violations.Select(v => v.Code));
    }

    [Fact]
    public void DisabledPrincipal_Denies() =>
        Assert.Contains(ActivationPolicy.Evaluate(Input(Settings()) with { PrincipalEnabled = false }).Violations, v => v.Code == PolicyViolationCode.PrincipalDisabled);

    [Theory]
    [InlineData(-1, null, PolicyViolationCode.EligibilityNotStarted)]
    [InlineData(-30, 0, PolicyViolationCode.EligibilityEnded)]
    public void EligibilityWindow_IsEnforcedToTheSecond(int startDays, int? endOffsetSeconds, PolicyViolationCode expected)
    {
        var start = startDays < 0 && endOffsetSeconds is null ? Now.AddSeconds(1) : Now.AddDays(startDays);
        var eligibility = new RoleEligibility(Guid.NewGuid(), Me, Guid.NewGuid(), "/", start, endOffsetSeconds is { } s ? Now.AddSeconds(s) : null, Guid.NewGuid(), start);

        var decision = ActivationPolicy.Evaluate(Input(Settings()) with { Eligibility = eligibility });

        Assert.Equal([expected], decision.Violations.Select(v => v.Code));
    }

    [Theory]
    [InlineData(0, PolicyViolationCode.DurationInvalid)]
    [InlineData(-5, PolicyViolationCode.DurationInvalid)]
    [InlineData(4, PolicyViolationCode.DurationTooShort)]
    [InlineData(121, PolicyViolationCode.DurationOverMaximum)]
    public void Duration_OutsideFiveMinutesToTheMaximum_Denies(int minutes, PolicyViolationCode expected)
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(max: TimeSpan.FromHours(2))) with { Duration = TimeSpan.FromMinutes(minutes) });

        Assert.Equal([expected], decision.Violations.Select(v => v.Code));
    }

    [Fact]
    public void Duration_ExactlyTheMaximum_Allows() =>
        Assert.Equal(PolicyVerdict.Allow, ActivationPolicy.Evaluate(Input(Settings(max: TimeSpan.FromHours(2))) with { Duration = TimeSpan.FromHours(2) }).Verdict);

    [Fact]
    public void Duration_EndingAfterTheEligibility_Denies_AndLongestAllowedIsCutThere()
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Me, Guid.NewGuid(), "/", Now.AddDays(-1), Now.AddMinutes(45), Guid.NewGuid(), Now.AddDays(-1));
        var settings = Settings();

        var decision = ActivationPolicy.Evaluate(Input(settings) with { Eligibility = eligibility, Duration = TimeSpan.FromMinutes(46) });

        Assert.Equal([PolicyViolationCode.DurationPastEligibility], decision.Violations.Select(v => v.Code));
        Assert.Equal(TimeSpan.FromMinutes(45), ActivationPolicy.LongestAllowed(settings, eligibility, Now));
        Assert.Equal(TimeSpan.FromHours(8), ActivationPolicy.LongestAllowed(settings, null, Now));
    }

    [Fact]
    public void Duration_Missing_Denies() =>
        Assert.Contains(ActivationPolicy.Evaluate(Input(Settings()) with { Duration = null }).Violations, v => v.Code == PolicyViolationCode.DurationInvalid);

    [Fact]
    public void Justification_TooLong_Denies()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(), justification: new string('a', 501)));

        Assert.Equal([PolicyViolationCode.JustificationTooLong], decision.Violations.Select(v => v.Code));
    }

    [Fact]
    public void Justification_NotRequired_MayBeOmitted() =>
        Assert.Equal(PolicyVerdict.Allow, ActivationPolicy.Evaluate(Input(Settings(justification: false), justification: null)).Verdict);

    [Theory]
    [InlineData("INC1", null)]
    [InlineData(null, "ServiceNow")]
    [InlineData(" ", "ServiceNow")]
    public void Ticket_RequiresNumberAndSystem(string? number, string? system)
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(ticket: true)) with { TicketNumber = number, TicketSystem = system });

        Assert.Equal([PolicyViolationCode.TicketMissing], decision.Violations.Select(v => v.Code));
    }

    [Fact]
    public void Mfa_ProvedFiveMinutesAgo_IsStillFresh()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(mfa: true), mfaAt: Now.AddMinutes(-5)));

        Assert.Equal(PolicyVerdict.Allow, decision.Verdict);
    }

    [Fact]
    public void Mfa_ProvedLongerAgo_IsRequiredAgain()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(mfa: true), mfaAt: Now.AddMinutes(-5).AddSeconds(-1)));

        Assert.Equal([PolicyViolationCode.MfaRequired], decision.Violations.Select(v => v.Code));
        Assert.True(decision.NeedsMfaProof);
    }

    [Fact]
    public void Mfa_ProofDatedInTheFuture_DoesNotCount() =>
        Assert.True(ActivationPolicy.Evaluate(Input(Settings(mfa: true), mfaAt: Now.AddMinutes(1))).NeedsMfaProof);

    [Fact]
    public void Mfa_CodeOffered_IsNotAViolationButStaysUnmet()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(mfa: true)) with { MfaProofOffered = true });

        Assert.Equal(PolicyVerdict.Allow, decision.Verdict);
        Assert.True(decision.NeedsMfaProof);
    }

    [Fact]
    public void AlreadyActive_DeniesAnActivation_AndAllowsAnExtension()
    {
        var activate = ActivationPolicy.Evaluate(Input(Settings()) with { HasOpenActivation = true });
        var extend = ActivationPolicy.Evaluate(Input(Settings()) with { HasOpenActivation = true, Kind = ActivationRequestKind.Extend, CurrentNotAfter = Now.AddMinutes(10) });

        Assert.Equal([PolicyViolationCode.AlreadyActive], activate.Violations.Select(v => v.Code));
        Assert.Equal(PolicyVerdict.Allow, extend.Verdict);
    }

    [Fact]
    public void Extension_NotEndingLaterThanNow_OrOfAnEndedActivation_Denies()
    {
        var notLater = ActivationPolicy.Evaluate(Input(Settings()) with { HasOpenActivation = true, Kind = ActivationRequestKind.Extend, CurrentNotAfter = Now.AddHours(2) });
        var ended = ActivationPolicy.Evaluate(Input(Settings()) with { HasOpenActivation = false, Kind = ActivationRequestKind.Extend, CurrentNotAfter = Now.AddMinutes(-1) });

        Assert.Equal([PolicyViolationCode.ExtensionNotLater], notLater.Violations.Select(v => v.Code));
        Assert.Equal([PolicyViolationCode.NotActive], ended.Violations.Select(v => v.Code));
    }

    [Fact]
    public void PendingRequest_Denies() =>
        Assert.Equal([PolicyViolationCode.AlreadyPending], ActivationPolicy.Evaluate(Input(Settings()) with { HasPendingRequest = true }).Violations.Select(v => v.Code));

    [Theory]
    [InlineData(".")]
    [InlineData("...")]
    [InlineData(" - ")]
    [InlineData("!?")]
    [InlineData("ab")]
    public void AJustificationOfPunctuationOrTooFewLetters_IsRefused_SayingWhy(string justification)
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(), justification: justification));

        Assert.Equal(PolicyVerdict.Deny, decision.Verdict);
        var violation = Assert.Single(decision.Violations);
        Assert.Equal(PolicyViolationCode.JustificationTooShort, violation.Code);
        Assert.Equal("Say why you need the role: a justification needs at least 3 letters or digits.", violation.Message);
        Assert.False(decision.Requirements.Single(r => r.Kind == PolicyRequirementKind.Justification).IsMet);
    }

    [Fact]
    public void TheJustificationMinimum_IsConfigurable_AndOnlyForRolesThatRequireOne()
    {
        Assert.Equal(PolicyVerdict.Allow, ActivationPolicy.Evaluate(Input(Settings(), justification: "INC42")).Verdict);
        Assert.Equal(PolicyViolationCode.JustificationTooShort,
            Assert.Single(ActivationPolicy.Evaluate(Input(Settings(), justification: "INC42") with { JustificationMinimum = 10 }).Violations).Code);
        Assert.Equal(PolicyVerdict.Allow, ActivationPolicy.Evaluate(Input(Settings(justification: false), justification: ".")).Verdict);
    }

    [Fact]
    public void EveryViolation_IsReportedAtOnce()
    {
        var decision = ActivationPolicy.Evaluate(Input(Settings(mfa: true, ticket: true), justification: null) with { Duration = TimeSpan.FromHours(9), HasOpenActivation = true, TicketNumber = null });

        Assert.Equal(
            [PolicyViolationCode.DurationOverMaximum, PolicyViolationCode.JustificationMissing, PolicyViolationCode.TicketMissing, PolicyViolationCode.MfaRequired, PolicyViolationCode.AlreadyActive],
            decision.Violations.Select(v => v.Code));
    }

    [Theory]
    [InlineData(30, "30 min")]
    [InlineData(60, "1 h")]
    [InlineData(90, "1 h 30 min")]
    [InlineData(1440, "24 h")]
    public void Format_WordsDurations(int minutes, string expected) =>
        Assert.Equal(expected, ActivationPolicy.Format(TimeSpan.FromMinutes(minutes)));

    private static RoleSettings Settings(bool mfa = false, bool justification = true, bool ticket = false, int approval = 0, TimeSpan? max = null) =>
        new(max ?? TimeSpan.FromHours(8), mfa, justification, ticket, requireApproval: approval > 0, approvalsNeeded: Math.Max(1, approval));

    private static ActivationPolicyInput Input(RoleSettings? settings, DateTimeOffset? mfaAt = null, string? justification = "Maintenance", IReadOnlyList<string>? approvers = null) =>
        new(settings,
            new RoleEligibility(Guid.NewGuid(), Me, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1)),
            PrincipalEnabled: true,
            Now,
            TimeSpan.FromHours(1),
            justification,
            "INC1",
            "ServiceNow",
            mfaAt,
            TimeSpan.FromMinutes(5),
            HasOpenActivation: false,
            HasPendingRequest: false,
            ApproverNames: approvers);
}
