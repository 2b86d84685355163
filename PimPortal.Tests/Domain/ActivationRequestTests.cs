using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

public sealed class ActivationRequestTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Requester = Guid.NewGuid();
    private static readonly Guid Bob = Guid.NewGuid();
    private static readonly Guid Erin = Guid.NewGuid();

    [Fact]
    public void ApprovedByPolicy_IsApprovedAtOnceByNobody()
    {
        var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, Now);

        Assert.Equal((ActivationRequestStatus.Approved, Now, 0), (request.Status, request.DecidedAt!.Value, request.ApprovalsNeeded));
        Assert.Null(request.ExpiresAt);
        Assert.Empty(request.Decisions);
    }

    [Fact]
    public void Request_FromSomeoneElsesEligibility_IsImpossible()
    {
        var error = Assert.Throws<DomainRuleException>(() =>
            ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Bob, TimeSpan.FromHours(1), Details, Now, Now));

        Assert.Equal("A request can only be made from one's own eligibility or that of one's group.", error.Message);
    }

    [Fact]
    public void Request_FromAGroupsEligibility_NeedsTheRequesterToBeAMember()
    {
        var group = Guid.NewGuid();
        var ofGroup = new RoleEligibility(Guid.NewGuid(), group, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));

        var member = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, ofGroup, Bob, TimeSpan.FromHours(1), Details, Now, Now, requesterGroups: [group]);
        var outsider = Assert.Throws<DomainRuleException>(() =>
            ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, ofGroup, Bob, TimeSpan.FromHours(1), Details, Now, Now, requesterGroups: [Guid.NewGuid()]));

        Assert.Equal(Bob, member.RequesterId);
        Assert.Equal("A request can only be made from one's own eligibility or that of one's group.", outsider.Message);
    }

    [Fact]
    public void Request_WithoutPositiveDuration_IsImpossible() =>
        Assert.Throws<DomainRuleException>(() =>
            ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.Zero, Details, Now, Now));

    [Fact]
    public void AwaitingApproval_IsPendingUntilItsTimeout()
    {
        var request = Pending(approvalsNeeded: 1);

        Assert.Equal(ActivationRequestStatus.Pending, request.Status);
        Assert.Equal(Now.AddHours(24), request.ExpiresAt);
        Assert.Null(request.DecidedAt);
    }

    [Fact]
    public void Decide_ApproveOneOfN_ApprovesTheRequest()
    {
        var request = Pending(approvalsNeeded: 1);

        Assert.True(request.Decide(Bob, ApprovalVerdict.Approve, null, Now.AddMinutes(5)));

        Assert.Equal(ActivationRequestStatus.Approved, request.Status);
        Assert.Equal(Now.AddMinutes(5), request.DecidedAt);
    }

    [Fact]
    public void Decide_TwoOfN_NeedsTwoDistinctApprovers()
    {
        var request = Pending(approvalsNeeded: 2);

        Assert.False(request.Decide(Bob, ApprovalVerdict.Approve, null, Now));
        Assert.Equal(ActivationRequestStatus.Pending, request.Status);
        var twice = Assert.Throws<DomainRuleException>(() => request.Decide(Bob, ApprovalVerdict.Approve, null, Now));
        Assert.Equal("You have already decided on this request.", twice.Message);

        Assert.True(request.Decide(Erin, ApprovalVerdict.Approve, null, Now));
        Assert.Equal(ActivationRequestStatus.Approved, request.Status);
        Assert.Equal(2, request.Decisions.Count);
    }

    [Fact]
    public void Decide_OwnRequest_IsRefused()
    {
        var request = Pending(approvalsNeeded: 1);

        var error = Assert.Throws<DomainRuleException>(() => request.Decide(Requester, ApprovalVerdict.Approve, null, Now));

        Assert.Equal("Nobody can approve or deny their own request.", error.Message);
        Assert.Equal(ActivationRequestStatus.Pending, request.Status);
    }

    [Fact]
    public void Decide_DenyWithoutReason_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Pending(approvalsNeeded: 2).Decide(Bob, ApprovalVerdict.Deny, " ", Now));

    [Fact]
    public void Decide_AnyDeny_EndsTheRequest()
    {
        var request = Pending(approvalsNeeded: 2);
        request.Decide(Bob, ApprovalVerdict.Approve, null, Now);

        request.Decide(Erin, ApprovalVerdict.Deny, "Not during the freeze", Now);

        Assert.Equal(ActivationRequestStatus.Denied, request.Status);
        Assert.Throws<DomainRuleException>(() => request.Decide(Guid.NewGuid(), ApprovalVerdict.Approve, null, Now));
    }

    [Fact]
    public void Decide_AfterTheDeadline_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Pending(approvalsNeeded: 1).Decide(Bob, ApprovalVerdict.Approve, null, Now.AddHours(24)));

    [Fact]
    public void Cancel_ByTheRequesterWhilePending_Cancels()
    {
        var request = Pending(approvalsNeeded: 1);

        request.Cancel(Requester, Now.AddMinutes(1));

        Assert.Equal(ActivationRequestStatus.Cancelled, request.Status);
        Assert.Throws<DomainRuleException>(() => request.Cancel(Requester, Now.AddMinutes(2)));
    }

    [Fact]
    public void Cancel_BySomeoneElse_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Pending(approvalsNeeded: 1).Cancel(Bob, Now));

    [Fact]
    public void Expire_OnlyAtItsDeadline()
    {
        var request = Pending(approvalsNeeded: 1);
        Assert.Throws<DomainRuleException>(() => request.Expire(Now.AddHours(23)));

        request.Expire(Now.AddHours(24));

        Assert.Equal(ActivationRequestStatus.Expired, request.Status);
    }

    [Fact]
    public void Produced_OnlyByAnApprovedRequest()
    {
        var pending = Pending(approvalsNeeded: 1);

        Assert.Throws<DomainRuleException>(() => new RoleActivation(Guid.NewGuid(), pending, Now));
    }

    [Fact]
    public void EveryTransition_ChangesTheVersion()
    {
        var request = Pending(approvalsNeeded: 2);
        var before = request.Version;

        request.Decide(Bob, ApprovalVerdict.Approve, null, Now);

        Assert.NotEqual(before, request.Version);
    }

    [Fact]
    public void AScheduledRequest_WaitsForItsStart_ApprovedByPolicyOrByTheLastApproval()
    {
        var byPolicy = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null, start: Now.AddHours(1));
        var atOnce = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null, start: Now);
        var approved = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null, 1,
            TimeSpan.FromHours(24), start: Now.AddHours(1));
        approved.Decide(Bob, ApprovalVerdict.Approve, null, Now.AddMinutes(10));
        var tooEarly = Assert.Throws<DomainRuleException>(() => byPolicy.Start(Now.AddHours(1).AddSeconds(-1)));
        byPolicy.Start(Now.AddHours(1));
        var lateApproval = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null, 1,
            TimeSpan.FromHours(24), start: Now.AddHours(1));
        lateApproval.Decide(Bob, ApprovalVerdict.Approve, null, Now.AddHours(1));

        Assert.Equal((true, false), (approved.IsScheduled, atOnce.IsScheduled));
        Assert.Equal((ActivationRequestStatus.Approved, ActivationRequestStatus.Approved, ActivationRequestStatus.Scheduled, ActivationRequestStatus.Approved),
            (byPolicy.Status, atOnce.Status, approved.Status, lateApproval.Status));
        Assert.Equal("This request has not reached its start.", tooEarly.Message);
        Assert.Equal("A request that is approved cannot be started.", Assert.Throws<DomainRuleException>(() => atOnce.Start(Now)).Message);
        Assert.Equal("An extension starts when it is decided; it cannot be scheduled.", Assert.Throws<DomainRuleException>(() =>
            ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Extend, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null, Guid.NewGuid(), Now.AddHours(1))).Message);
        Assert.Equal("A request awaiting approval needs at least one approval.", Assert.Throws<DomainRuleException>(() =>
            ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null, 0, TimeSpan.FromHours(24))).Message);
    }

    [Fact]
    public void ARequestLapses_OnlyWhileItCouldStillGrant_WithItsReasonCut_AndItsFirstDecisionKept()
    {
        var pending = Pending(1);
        var approved = Pending(1);
        approved.Decide(Bob, ApprovalVerdict.Approve, null, Now.AddMinutes(5));
        var granted = Pending(1);
        granted.Decide(Bob, ApprovalVerdict.Approve, null, Now.AddMinutes(5));
        _ = new RoleActivation(Guid.NewGuid(), granted, Now.AddMinutes(5));
        var denied = Pending(1);
        denied.Decide(Bob, ApprovalVerdict.Deny, "No change ticket", Now);

        pending.Lapse(new string('r', ActivationRequest.MaxClosedReasonLength + 1), Now.AddMinutes(1));
        approved.Lapse("the eligibility was removed", Now.AddMinutes(9));

        Assert.Equal((ActivationRequestStatus.Lapsed, ActivationRequest.MaxClosedReasonLength, (DateTimeOffset?)Now.AddMinutes(1), (DateTimeOffset?)null),
            (pending.Status, pending.ClosedReason!.Length, pending.DecidedAt, pending.ExpiresAt));
        Assert.Equal((ActivationRequestStatus.Lapsed, (DateTimeOffset?)Now.AddMinutes(5)), (approved.Status, approved.DecidedAt));
        Assert.Equal("A request that is approved cannot lapse.", Assert.Throws<DomainRuleException>(() => granted.Lapse("late", Now)).Message);
        Assert.Equal("A request that is denied cannot lapse.", Assert.Throws<DomainRuleException>(() => denied.Lapse("late", Now)).Message);
        var exact = Pending(1);
        exact.Lapse(new string('r', ActivationRequest.MaxClosedReasonLength), Now);
        Assert.Equal(ActivationRequest.MaxClosedReasonLength, exact.ClosedReason!.Length);
    }

    [Fact]
    public void AGrant_IsLinkedOnce_AndWaitingMeansPendingOrScheduled()
    {
        var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, null);
        var grant = new RoleActivation(Guid.NewGuid(), request, Now);
        request.Produced(grant);

        Assert.Equal(grant.Id, request.ActivationId);
        Assert.Equal("This request already produced a grant.", Assert.Throws<DomainRuleException>(() => new RoleActivation(Guid.NewGuid(), request, Now)).Message);
        Assert.Equal([ActivationRequestStatus.Pending, ActivationRequestStatus.Scheduled], ActivationRequest.WaitingStatuses);
        Assert.Equal((true, false), (Pending(1).IsWaiting, request.IsWaiting));
        Assert.Equal("You have already decided on this request.", Assert.Throws<DomainRuleException>(() =>
        {
            var twoOfTwo = Pending(2);
            twoOfTwo.Decide(Bob, ApprovalVerdict.Approve, null, Now);
            twoOfTwo.Decide(Bob, ApprovalVerdict.Approve, null, Now);
        }).Message);
        Assert.Equal("This request has expired.", Assert.Throws<DomainRuleException>(() => Pending(1).Decide(Bob, ApprovalVerdict.Approve, null, Now.AddHours(24))).Message);
    }

    [Fact]
    public void RequestDetails_AreTrimmed_AndBlankIsNone() =>
        Assert.Equal(new RequestDetails("Maintenance", null, "Jira"), RequestDetails.From("  Maintenance ", "   ", "Jira"));

    private static readonly RequestDetails Details = new("Maintenance", null, null);

    private static RoleEligibility Eligibility() => new(Guid.NewGuid(), Requester, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));

    private static ActivationRequest Pending(int approvalsNeeded) =>
        ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, Now, approvalsNeeded, TimeSpan.FromHours(24));
}
