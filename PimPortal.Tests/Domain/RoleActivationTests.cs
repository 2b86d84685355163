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

    private static RoleActivation Grant(TimeSpan? duration = null)
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Holder, Guid.NewGuid(), "/", Now.AddDays(-1), null, Guid.NewGuid(), Now.AddDays(-1));
        var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, Holder, duration ?? TimeSpan.FromHours(1), new("Why", null, null), Now, null);
        var activation = new RoleActivation(Guid.NewGuid(), request, Now);
        Assert.Equal(activation.Id, request.ActivationId);
        return activation;
    }
}
