using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;
using PimPortal.Tests.Security;

namespace PimPortal.Tests.Features.Activation;

/// <summary>Entra mode: an activation that needs MFA completes only with a verified, fresh, unused step-up of its own user.</summary>
public sealed class EntraStepUpTests : IAsyncLifetime
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private TestApp? app;

    private TestApp App => app!;

    public async ValueTask InitializeAsync() =>
        app = await TestApp.StartAsync(DatabaseKind.Sqlite, settings: new Dictionary<string, string?> { ["Pim:Mode"] = "Entra" });

    public async ValueTask DisposeAsync() => await App.DisposeAsync();

    [Fact]
    public async Task AVerifiedStepUp_CompletesTheActivationItWasFor_Once()
    {
        var stepUp = await BeginAsync(Alice);
        Assert.Null(await RecordAsync(stepUp, Alice));

        var result = await App.SendAs(Alice, new ResumeStepUp(stepUp));

        var item = Assert.Single(result.Activation!.Items);
        Assert.Equal(("User Administrator", ActivationRequestStatus.Approved), (item.RoleName, item.RequestStatus));
        Assert.Equal(TimeSpan.FromHours(2), (await App.ActivationAsync(item.ActivationId!.Value)).NotAfter - TestApp.Start);
        var verified = Assert.Single(await App.AuditAsync(AuditActions.MfaVerified));
        Assert.Contains("conditional-access", verified.Details, StringComparison.Ordinal);

        App.Time.Advance(TimeSpan.FromMinutes(1));
        await App.SendAs(Alice, new DeactivateRoles([item.ActivationId!.Value]));
        var replay = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ResumeStepUp(stepUp)));
        Assert.Equal("That verification was already used; verify again.", replay.Message);
    }

    [Fact]
    public async Task WithoutAVerifiedStepUp_NothingIsActivated()
    {
        var stepUp = await BeginAsync(Alice);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ResumeStepUp(stepUp)));

        Assert.Equal("The verification with Microsoft was not completed.", refused.Message);
        Assert.Equal(0, await App.CountAsync<RoleActivation>());
    }

    [Fact]
    public async Task ATokenWithoutTheAuthenticationContext_VerifiesNothing()
    {
        var stepUp = await BeginAsync(Alice);

        var refusal = await App.Services.GetRequiredService<StepUpRecorder>().RecordAsync(
            stepUp, StepUpEvidenceTests.Token(Alice.Id, acrs: null, App.Time.GetUtcNow()), ClientInfo.Unknown, CancellationToken.None);

        Assert.Equal("the token does not carry the authentication context c1", refusal);
        await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ResumeStepUp(stepUp)));
    }

    [Fact]
    public async Task SomeoneElsesStepUp_CannotBeUsed()
    {
        var stepUp = await BeginAsync(Alice);
        await RecordAsync(stepUp, Alice);

        await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(DemoOrganisation.Bob, new ResumeStepUp(stepUp)));
        var bobs = await App.EligibilityOf(DemoOrganisation.Bob, DemoOrganisation.UserAdministrator);
        var direct = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Bob, new ActivateRoles(
            [new ActivationItem(bobs, TimeSpan.FromHours(1))], "Borrowed proof", null, null, StepUpProof.For(stepUp))));

        Assert.Equal("That verification is not yours, or does not exist.", direct.Message);
        Assert.Equal(0, await App.CountAsync<RoleActivation>());
        Assert.Contains(await App.AuditAsync(AuditActions.MfaFailed), e => e.ActorId == DemoOrganisation.Bob.Id);
    }

    [Fact]
    public async Task AStaleVerification_IsRefused()
    {
        var stepUp = await BeginAsync(Alice);
        await RecordAsync(stepUp, Alice);
        App.Time.Advance(TimeSpan.FromMinutes(6));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ResumeStepUp(stepUp)));

        Assert.Equal("The verification with Microsoft is more than a few minutes old; verify again.", refused.Message);
    }

    [Fact]
    public async Task InEntraMode_NoSessionProofSparesTheNextStepUp()
    {
        var first = await BeginAsync(Alice);
        await RecordAsync(first, Alice);
        await App.SendAs(Alice, new ResumeStepUp(first));

        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd);
        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Deploy", null, null, null)));

        Assert.Contains("multi-factor authentication", refused.Message, StringComparison.Ordinal);
    }

    private async Task<Guid> BeginAsync(DemoAccount who)
    {
        var eligibility = await App.EligibilityOf(who, DemoOrganisation.UserAdministrator);
        return await App.SendAs(who, new BeginStepUp(new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(2))], "Reset a user's MFA", null, null, null),
            StepUpChallenge.HashNonce("browser-secret")));
    }

    private Task<string?> RecordAsync(Guid stepUp, DemoAccount who) =>
        App.Services.GetRequiredService<StepUpRecorder>().RecordAsync(stepUp, StepUpEvidenceTests.Token(who.Id, "c1", App.Time.GetUtcNow()), ClientInfo.Unknown, CancellationToken.None);

    [Fact]
    public async Task AnExtensionOfAnMfaRole_StepsUpToo()
    {
        var first = await BeginAsync(Alice);
        await RecordAsync(first, Alice);
        var activation = (await App.SendAs(Alice, new ResumeStepUp(first))).Activation!.Items.Single().ActivationId!.Value;
        App.Time.Advance(TimeSpan.FromMinutes(30));

        var stepUp = await App.SendAs(Alice, new BeginStepUp(null, StepUpChallenge.HashNonce("browser-secret"),
            new ExtendActivation(activation, TimeSpan.FromHours(4), "Longer change window", null, null, null)));
        await RecordAsync(stepUp, Alice);
        var outcome = await App.SendAs(Alice, new ResumeStepUp(stepUp));

        Assert.Equal(TestApp.Start.AddMinutes(30).AddHours(4), outcome.Extension!.NewNotAfter);
        Assert.Equal(TestApp.Start.AddMinutes(30).AddHours(4), (await App.ActivationAsync(activation)).NotAfter);
    }

    [Fact]
    public async Task AProtectedRolesSettings_AreSavedOnTheWayBackFromAStepUp_AndOnlyByAPimAdministrator()
    {
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        var opened = await App.QueryAs(DemoOrganisation.Erin, new Core.Features.Settings.GetRoleSettings(globalAdmin.Id));
        var change = new Core.Features.Settings.UpdateRoleSettings(globalAdmin.Id, opened.Version, opened.Settings with { MaxActivationDuration = TimeSpan.FromHours(3) });
        var withoutStepUp = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Erin, change));
        Assert.Equal("Global Administrator guards the whole tenant: verify with Microsoft (Conditional Access) to change its settings.", withoutStepUp.Message);

        // Alice is no PIM administrator: her own verified step-up carries the change no further than the pipeline's check.
        var alices = await App.SendAs(Alice, new BeginStepUp(null, StepUpChallenge.HashNonce("browser-secret"), Settings: change));
        await RecordAsync(alices, Alice);
        await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Alice, new ResumeStepUp(alices)));
        Assert.Equal(opened.Version, (await App.QueryAs(DemoOrganisation.Erin, new Core.Features.Settings.GetRoleSettings(globalAdmin.Id))).Version);

        var erins = await App.SendAs(DemoOrganisation.Erin, new BeginStepUp(null, StepUpChallenge.HashNonce("browser-secret"), Settings: change));
        Assert.Null(await RecordAsync(erins, DemoOrganisation.Erin));
        var outcome = await App.SendAs(DemoOrganisation.Erin, new ResumeStepUp(erins));

        var after = await App.QueryAs(DemoOrganisation.Erin, new Core.Features.Settings.GetRoleSettings(globalAdmin.Id));
        Assert.Equal((outcome.SettingsVersion, TimeSpan.FromHours(3)), (after.Version, after.Settings.MaxActivationDuration));
        Assert.Single(await App.AuditAsync(AuditActions.MfaVerified), e => e.ActorId == DemoOrganisation.Erin.Id);
        Assert.Equal(1, await App.CountAsync<Alert>());

        // Resumed again, the kept change was read at a version that is gone: nothing is changed twice.
        await Assert.ThrowsAsync<ConflictException>(() => App.SendAs(DemoOrganisation.Erin, new ResumeStepUp(erins)));
        Assert.Equal(after.Version, (await App.QueryAs(DemoOrganisation.Erin, new Core.Features.Settings.GetRoleSettings(globalAdmin.Id))).Version);
    }
}
