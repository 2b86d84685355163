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

    private static readonly RequestDetails Details = new("Maintenance", null, null);

    private static RoleEligibility Eligibility() => new(Guid.NewGuid(), Requester, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));

    private static ActivationRequest Pending(int approvalsNeeded) =>
        ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, Eligibility(), Requester, TimeSpan.FromHours(1), Details, Now, Now, approvalsNeeded, TimeSpan.FromHours(24));
}
