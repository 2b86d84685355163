using CsCheck;
using PimPortal.Core.Domain;
using PimPortal.Core.Policy;

namespace PimPortal.Tests.Properties;

/// <summary>
/// The activation policy over generated inputs (any settings × eligibility × request × time): whatever it lets through
/// keeps every rule, and whatever it refuses, it says why. 10,000 cases per property; CsCheck shrinks a failure to the
/// smallest input that shows it.
/// </summary>
public sealed class ActivationPolicyProperties
{
    private const int Cases = 10_000;
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<RoleSettings> Settings =
        Gen.Select(Gen.Int[(int)RoleSettings.MinimumMaxDuration.TotalMinutes, (int)RoleSettings.AbsoluteMaxDuration.TotalMinutes], Gen.Bool, Gen.Bool, Gen.Bool, Gen.Bool, Gen.Int[1, 3])
            .Select((max, mfa, justification, ticket, approval, needed) =>
                new RoleSettings(TimeSpan.FromMinutes(max), mfa, justification, ticket, requireApproval: approval, approvalsNeeded: needed));

    // Mostly what a user would type, often what an attacker would: the edges are reached and so is what is let through.
    private static readonly Gen<string?> Text = Gen.Frequency(
        (1, Gen.OneOf(Gen.Const<string?>(() => null), Gen.Const<string?>(""), Gen.Const<string?>("."), Gen.Const<string?>(" -?! "), Gen.Const<string?>("ab"),
            Gen.String[0, 40].Select(s => (string?)s))),
        (4, Gen.String[Gen.Char.AlphaNumeric, 3, 20].Select(s => (string?)s)));

    private static readonly Gen<bool> Mostly = Gen.Int[0, 9].Select(i => i > 0);

    private static readonly Gen<bool> Seldom = Gen.Int[0, 9].Select(i => i == 0);

    private static readonly Gen<ActivationPolicyInput> Inputs =
        Gen.Select(Settings, Gen.Int[-600, 3000], Gen.Int[-1, 6000], Gen.Int[-60, 1500], Gen.Int[-1, 20], Gen.Bool)
            .SelectMany((settings, eligibleFromMinutes, eligibleForMinutes, durationMinutes, mfaAgoMinutes, offered) =>
                Gen.Select(Text, Text, Text, Mostly, Seldom, Seldom, Gen.Int[-30, 2000], Gen.Int[-1, 4])
                    .Select((justification, ticket, system, enabled, open, pending, startInMinutes, approvers) =>
                    {
                        var now = Epoch.AddDays(100);
                        var from = now.AddMinutes(-eligibleFromMinutes);
                        DateTimeOffset? until = eligibleForMinutes < 0 ? null : from.AddMinutes(eligibleForMinutes + 1);
                        var eligibility = new RoleEligibility(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", from, until, Guid.NewGuid(), from);
                        return new ActivationPolicyInput(settings, eligibility, enabled, now,
                            durationMinutes < 0 ? null : TimeSpan.FromMinutes(durationMinutes),
                            justification, ticket, system,
                            mfaAgoMinutes < 0 ? null : now.AddMinutes(-mfaAgoMinutes), TimeSpan.FromMinutes(5),
                            open, pending, MfaProofOffered: offered,
                            Start: startInMinutes == -30 ? null : now.AddMinutes(startInMinutes),
                            AvailableApprovers: approvers < 0 ? null : approvers);
                    }));

    [Fact]
    public void WhatIsLetThrough_KeepsEveryRule()
    {
        var letThrough = 0;
        Inputs.Sample(input =>
        {
            var decision = ActivationPolicy.Evaluate(input);
            if (decision.Verdict == PolicyVerdict.Deny)
            {
                return;
            }

            Interlocked.Increment(ref letThrough);
            var settings = input.Settings!;
            var duration = input.Duration!.Value;
            var start = input.EffectiveStart;
            Assert.Empty(decision.Violations);
            Assert.InRange(duration, ActivationPolicy.MinimumDuration, settings.MaxActivationDuration);
            Assert.True(input.PrincipalEnabled, "a disabled account was let through");
            Assert.False(input.HasOpenActivation || input.HasPendingRequest, "a second grant or request was let through");
            Assert.True(input.Eligibility!.NotBefore <= start, "let through before the eligibility starts");
            Assert.True(input.Eligibility.NotAfter is not { } end || start + duration <= end, "let through past the eligibility's end");
            Assert.True(input.Start is not { } s || (s >= input.Now - Starts.Tolerance && s <= input.Now + ActivationPolicy.MaxScheduleAhead), "a start in the past or too far ahead");
            Assert.True(!settings.RequireMfa || input.MfaProofOffered || input.MfaVerifiedAt is { } at && input.Now - at <= input.MfaFreshFor, "MFA skipped");
            Assert.True(!settings.RequireMfa || input.MfaProofOffered || !decision.NeedsMfaProof, "MFA left unmet");
            Assert.Equal(settings.RequireApproval ? PolicyVerdict.NeedsApproval : PolicyVerdict.Allow, decision.Verdict);
            Assert.True(!settings.RequireApproval || input.AvailableApprovers is not { } n || n >= settings.ApprovalsNeeded, "approval that can never be met");
            Assert.True(!settings.RequireTicket || !string.IsNullOrWhiteSpace(input.TicketNumber) && !string.IsNullOrWhiteSpace(input.TicketSystem), "ticket skipped");
            Assert.True(!settings.RequireJustification || input.Justification!.Count(char.IsLetterOrDigit) >= input.JustificationMinimum, "justification skipped");
        }, iter: Cases);

        // The property says something only if the generator reaches what is let through, often enough.
        Assert.True(letThrough > Cases / 100, $"only {letThrough} of {Cases} cases were let through");
    }

    [Fact]
    public void ARefusal_AlwaysNamesItsReasons_AndADecisionIsTheSameTwice() =>
        Inputs.Sample(input =>
        {
            var decision = ActivationPolicy.Evaluate(input);

            Assert.Equal(decision.Verdict == PolicyVerdict.Deny, decision.Violations.Count > 0);
            Assert.All(decision.Violations, v => Assert.False(string.IsNullOrWhiteSpace(v.Message)));
            Assert.Equal(decision.Violations.Count, decision.Violations.Select(v => v.Code).Distinct().Count());
            var again = ActivationPolicy.Evaluate(input);
            Assert.Equal(decision.Verdict, again.Verdict);
            Assert.Equal(decision.Violations, again.Violations);
        }, iter: Cases);
}
