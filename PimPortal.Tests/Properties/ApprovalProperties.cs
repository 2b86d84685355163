using CsCheck;
using PimPortal.Core;
using PimPortal.Core.Domain;

namespace PimPortal.Tests.Properties;

/// <summary>
/// The M-of-N decision state machine over generated sequences of decisions, cancels, expiries and time: no sequence
/// approves with fewer than M distinct approvers, or with the requester's vote, or after a deny; a closed request
/// takes no further decision. 10,000 sequences of up to 12 steps; a refused step (DomainRuleException) changes nothing.
/// </summary>
public sealed class ApprovalProperties
{
    private const int Cases = 10_000;
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Requester = Guid.NewGuid();
    private static readonly Guid[] People = [Requester, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid()];

    /// <summary>One step: who (0 = the requester), what (0–5 approve, 6 deny with a reason, 7 deny without, 8 cancel, 9 expire), minutes passing first.</summary>
    private static readonly Gen<(int Who, int What, int Minutes)> Step = Gen.Select(Gen.Int[0, People.Length - 1], Gen.Int[0, 9], Gen.Int[0, 400]);

    [Fact]
    public void NoSequence_ApprovesWithFewerThanMDistinctApprovers_OrTheRequestersVote_OrAfterADeny()
    {
        var approved = 0;
        Gen.Select(Gen.Int[1, 4], Gen.Int[0, 120], Step.Array[0, 12]).Sample((needed, startInMinutes, steps) =>
        {
            var eligibility = new RoleEligibility(Guid.NewGuid(), Requester, Guid.NewGuid(), "/", Start.AddDays(-1), null, Guid.NewGuid(), Start.AddDays(-1));
            var request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, Requester, TimeSpan.FromHours(1),
                RequestDetails.From("Change window", null, null), Start, null, needed, TimeSpan.FromHours(24), start: Start.AddMinutes(startInMinutes));
            var now = Start;
            foreach (var (who, what, minutes) in steps)
            {
                now = now.AddMinutes(minutes);
                var before = (request.Status, request.Decisions.Count, request.Version);
                try
                {
                    switch (what)
                    {
                        case <= 5: request.Decide(People[who], ApprovalVerdict.Approve, null, now); break;
                        case 6: request.Decide(People[who], ApprovalVerdict.Deny, "Not in the change window", now); break;
                        case 7: request.Decide(People[who], ApprovalVerdict.Deny, " ", now); break;
                        case 8: request.Cancel(People[who], now); break;
                        default: request.Expire(now); break;
                    }
                }
                catch (DomainRuleException)
                {
                    Assert.Equal(before, (request.Status, request.Decisions.Count, request.Version));
                }

                if (before.Status != ActivationRequestStatus.Pending)
                {
                    Assert.Equal(before.Count, request.Decisions.Count);
                }
            }

            var approvals = request.Decisions.Where(d => d.Verdict == ApprovalVerdict.Approve).Select(d => d.ApproverId).ToList();
            Assert.DoesNotContain(Requester, request.Decisions.Select(d => d.ApproverId));
            Assert.Equal(request.Decisions.Count, request.Decisions.Select(d => d.ApproverId).Distinct().Count());
            Assert.True(request.Decisions.All(d => d.Verdict == ApprovalVerdict.Approve || !string.IsNullOrWhiteSpace(d.Reason)), "a deny without a reason");
            if (request.Status is ActivationRequestStatus.Approved or ActivationRequestStatus.Scheduled)
            {
                Interlocked.Increment(ref approved);
                Assert.True(approvals.Distinct().Count() >= needed, $"approved with {approvals.Count} of {needed}");
                Assert.DoesNotContain(request.Decisions, d => d.Verdict == ApprovalVerdict.Deny);
                Assert.True(request.Decisions.All(d => d.DecidedAt < Start.AddHours(24)), "a decision after the deadline counted");
            }

            if (request.Status == ActivationRequestStatus.Denied)
            {
                Assert.Equal(ApprovalVerdict.Deny, request.Decisions[^1].Verdict);
                Assert.Single(request.Decisions, d => d.Verdict == ApprovalVerdict.Deny);
            }
        }, iter: Cases);

        Assert.True(approved > Cases / 100, $"only {approved} of {Cases} sequences ended approved: the generator says little");
    }
}
