using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

public sealed class RoleActivationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Holder = Guid.NewGuid();

    [Fact]
    public void NewGrant_IsProvisioningForExactlyTheRequestedWindow()
    {
        var activation = Grant(TimeSpan.FromHours(2));

        Assert.Equal(ActivationStatus.Provisioning, activation.Status);
        Assert.Equal((Now, Now.AddHours(2)), (activation.NotBefore, activation.NotAfter));
        Assert.True(activation.IsOpen);
    }

    [Fact]
    public void ConfirmProvisioned_MakesItActive_Once()
    {
        var activation = Grant();

        activation.ConfirmProvisioned(Now.AddSeconds(1));

        Assert.Equal((ActivationStatus.Active, Now.AddSeconds(1)), (activation.Status, activation.ConfirmedAt!.Value));
        Assert.Throws<DomainRuleException>(() => activation.ConfirmProvisioned(Now.AddSeconds(2)));
    }

    [Fact]
    public void FailProvisioning_EndsIt()
    {
        var activation = Grant();

        activation.FailProvisioning("Role not found", Now);

        Assert.Equal((ActivationStatus.Failed, "Role not found"), (activation.Status, activation.FailureReason));
        Assert.False(activation.IsOpen);
    }

    [Fact]
    public void Deactivate_ByTheHolder_EndsItNow()
    {
        var activation = Grant();
        activation.ConfirmProvisioned(Now);

        activation.Deactivate(Holder, Now.AddMinutes(10));

        Assert.Equal((ActivationStatus.Deactivated, Now.AddMinutes(10), Holder), (activation.Status, activation.EndedAt!.Value, activation.EndedBy!.Value));
    }

    [Fact]
    public void Deactivate_BySomeoneElse_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Grant().Deactivate(Guid.NewGuid(), Now));

    [Fact]
    public void Deactivate_Twice_IsRefused()
    {
        var activation = Grant();
        activation.Deactivate(Holder, Now);

        var error = Assert.Throws<DomainRuleException>(() => activation.Deactivate(Holder, Now));

        Assert.Equal("This activation is already deactivated.", error.Message);
    }

    [Fact]
    public void Expire_BeforeTheEnd_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Grant().Expire(Now.AddMinutes(59)));

    [Fact]
    public void Expire_AtTheEnd_EndsIt()
    {
        var activation = Grant();

        activation.Expire(Now.AddHours(1));

        Assert.Equal(ActivationStatus.Expired, activation.Status);
        Assert.Null(activation.EndedBy);
    }

    [Fact]
    public void Revoke_BySomeoneElse_EndsIt()
    {
        var activation = Grant();
        var admin = Guid.NewGuid();

        activation.Revoke(admin, Now);

        Assert.Equal((ActivationStatus.Revoked, admin), (activation.Status, activation.EndedBy!.Value));
    }

    [Fact]
    public void Extend_MovesTheEndLater()
    {
        var activation = Grant();

        activation.Extend(Now.AddHours(3), Now.AddMinutes(30));

        Assert.Equal(Now.AddHours(3), activation.NotAfter);
    }

    [Fact]
    public void Extend_ToAnEarlierEnd_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Grant().Extend(Now.AddMinutes(30), Now));

    [Fact]
    public void Extend_AfterItEnded_IsRefused()
    {
        var activation = Grant();
        activation.Deactivate(Holder, Now);

        Assert.Throws<DomainRuleException>(() => activation.Extend(Now.AddHours(3), Now));
    }

    [Fact]
    public void Extend_AtOrPastItsEnd_IsRefused() =>
        Assert.Throws<DomainRuleException>(() => Grant().Extend(Now.AddHours(3), Now.AddHours(1)));

    [Fact]
    public void MarkRemovedFromDirectory_OnlyOnceEnded()
    {
        var activation = Grant();
        Assert.Throws<DomainRuleException>(() => activation.MarkRemovedFromDirectory(Now));

        activation.Expire(Now.AddHours(1));
        activation.MarkRemovedFromDirectory(Now.AddHours(1).AddMilliseconds(50));

        Assert.Equal(Now.AddHours(1).AddMilliseconds(50), activation.RemovedFromDirectoryAt);
    }

    [Fact]
    public void EveryTransition_ChangesTheVersion()
    {
        var activation = Grant();
        var versions = new HashSet<Guid> { activation.Version };

        activation.ConfirmProvisioned(Now);
        versions.Add(activation.Version);
        activation.Extend(Now.AddHours(2), Now);
        versions.Add(activation.Version);
        activation.Deactivate(Holder, Now);
        versions.Add(activation.Version);

        Assert.Equal(4, versions.Count);
    }

    [Fact]
    public void AGrant_IsCutAtTheEligibilitysEnd_WhenThatComesFirst_AndNothingIsGrantedOnceItEnded()
    {
        var cut = new RoleActivation(Guid.NewGuid(), Approved(TimeSpan.FromHours(2)), Now, endAtLatest: Now.AddHours(1));
        var exact = new RoleActivation(Guid.NewGuid(), Approved(TimeSpan.FromHours(2)), Now, endAtLatest: Now.AddHours(2));
        var later = new RoleActivation(Guid.NewGuid(), Approved(TimeSpan.FromHours(2)), Now, endAtLatest: Now.AddHours(3));
        var ended = Assert.Throws<DomainRuleException>(() => new RoleActivation(Guid.NewGuid(), Approved(TimeSpan.FromHours(2)), Now, endAtLatest: Now));

        Assert.Equal((Now.AddHours(1), Now.AddHours(2), Now.AddHours(2)), (cut.NotAfter, exact.NotAfter, later.NotAfter));
        Assert.Equal("The eligibility has ended, so nothing can be granted from it.", ended.Message);
        new RoleActivation(Guid.NewGuid(), Approved(TimeSpan.FromHours(2)), Now, endAtLatest: Now.AddSeconds(1));
    }

    [Fact]
    public void OnlyAnApprovedActivationRequest_ProducesAGrant()
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));
        var pending = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, Holder, TimeSpan.FromHours(1), new("Why", null, null), Now, Now, 1, TimeSpan.FromHours(24));
        var extension = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Extend, eligibility, Holder, TimeSpan.FromHours(1), new("Why", null, null), Now, null);

        var refusals = new[] { pending, extension }.Select(r => Assert.Throws<DomainRuleException>(() => new RoleActivation(Guid.NewGuid(), r, Now)).Message).ToList();

        Assert.All(refusals, m => Assert.Equal("Only an approved activation request produces a grant.", m));
        Assert.Equal((null, null), (pending.ActivationId, extension.ActivationId));
    }

    [Fact]
    public void AnAdministratorsAssignment_EndsInTheFuture_OrNever_AndIsNotTheHoldersToDeactivate()
    {
        var assignedBy = Guid.NewGuid();
        var timeBound = RoleActivation.Assigned(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", Now.AddSeconds(1), assignedBy, Now);
        var permanent = RoleActivation.Assigned(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", null, assignedBy, Now);
        var past = Assert.Throws<DomainRuleException>(() => RoleActivation.Assigned(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", Now, assignedBy, Now));

        Assert.Equal("An active assignment must end in the future.", past.Message);
        Assert.Equal((Now.AddSeconds(1), RoleActivation.PermanentEnd, ActivationStatus.Provisioning), (timeBound.NotAfter, permanent.NotAfter, permanent.Status));
        Assert.Equal(((Guid?)assignedBy, true, true), (permanent.AssignedBy, permanent.IsAssignment, permanent.IsPermanent));
        Assert.False(timeBound.IsPermanent);
        Assert.Equal("An active assignment made by an administrator is removed by a PIM administrator, not deactivated.",
            Assert.Throws<DomainRuleException>(() => timeBound.Deactivate(Holder, Now)).Message);
        Assert.Equal("A permanent assignment cannot be extended.", Assert.Throws<DomainRuleException>(() => permanent.Extend(Now.AddDays(1), Now)).Message);
        Assert.Equal([ActivationStatus.Provisioning, ActivationStatus.Active], RoleActivation.OpenStatuses);
    }

    [Fact]
    public void TheRefusals_SayWhyInWords()
    {
        var grant = Grant();

        Assert.Equal("Only the holder can deactivate an activation.", Assert.Throws<DomainRuleException>(() => grant.Deactivate(Guid.NewGuid(), Now)).Message);
        Assert.Equal("An activation cannot expire before its end.", Assert.Throws<DomainRuleException>(() => grant.Expire(grant.NotAfter.AddSeconds(-1))).Message);
        Assert.Equal("An extension must end later than the activation ends now.", Assert.Throws<DomainRuleException>(() => grant.Extend(grant.NotAfter, Now)).Message);
        Assert.Equal("This activation has already reached its end.", Assert.Throws<DomainRuleException>(() => grant.Extend(grant.NotAfter.AddHours(1), grant.NotAfter)).Message);
        Assert.Equal("An open activation is not removed from the directory.", Assert.Throws<DomainRuleException>(() => grant.MarkRemovedFromDirectory(Now)).Message);
        grant.Extend(grant.NotAfter.AddSeconds(1), grant.NotAfter.AddSeconds(-1));
        grant.Revoke(null, Now);
        Assert.Equal("This activation is already revoked.", Assert.Throws<DomainRuleException>(() => grant.Revoke(null, Now)).Message);
        Assert.Equal("An activation that is revoked cannot be extended.", Assert.Throws<DomainRuleException>(() => grant.Extend(grant.NotAfter.AddHours(1), Now)).Message);
    }

    private static ActivationRequest Approved(TimeSpan duration)
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));
        return ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, Holder, duration, new("Why", null, null), Now, null);
    }

    private static RoleActivation Grant(TimeSpan? duration = null)
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));
        var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, Holder, duration ?? TimeSpan.FromHours(1), new("Why", null, null), Now, null);
        var activation = new RoleActivation(Guid.NewGuid(), request, Now);
        Assert.Equal(activation.Id, request.ActivationId);
        return activation;
    }
}
