using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PimPortal.Core.Directory.Local;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Core.Signals;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

/// <summary>Users, managers and group members read from Graph (the stub) into the portal's principals.</summary>
public sealed class DirectorySyncTests : IAsyncLifetime
{
    private TestApp? app;
    private GraphStub.GraphStub? stub;

    private TestApp App => app!;

    private GraphStub.GraphStub Stub => stub!;

    public async ValueTask InitializeAsync()
    {
        app = await TestApp.StartAsync(DatabaseKind.Sqlite);
        stub = await GraphStub.GraphStub.StartAsync();
        foreach (var account in DemoOrganisation.Accounts)
        {
            Stub.SetUser(account.Id.ToString(), account.DisplayName, account.Email, managerId: DemoOrganisation.Carol.Id.ToString());
        }

        Stub.SetUser(DemoOrganisation.Carol.Id.ToString(), "Carol Clark", DemoOrganisation.Carol.Email);
    }

    public async ValueTask DisposeAsync()
    {
        await Stub.DisposeAsync();
        await App.DisposeAsync();
    }

    [Fact]
    public async Task AnAccountDisabledInEntra_IsDisabledHere_AndLosesItsGrantAtOnce()
    {
        var activation = (await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Stub.SetUser(DemoOrganisation.Alice.Id.ToString(), "Alice Adams", DemoOrganisation.Alice.Email, accountEnabled: false);

        await Syncer().SyncAsync(CancellationToken.None);
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.False((await PrincipalAsync(DemoOrganisation.Alice.Id)).IsEnabled);
        Assert.Equal(ActivationStatus.Revoked, (await App.ActivationAsync(activation)).Status);
        var disabled = Assert.Single(await App.AuditAsync(AuditActions.PrincipalDisabled));
        Assert.Equal(DemoOrganisation.Alice.Id.ToString(), disabled.TargetId);
    }

    [Fact]
    public async Task NamesManagersAndGroupMembers_FollowTheDirectory()
    {
        Stub.SetUser(DemoOrganisation.Alice.Id.ToString(), "Alice Adams-Smith", "alice.smith@contoso.test", managerId: DemoOrganisation.Erin.Id.ToString());
        Stub.AddMember(DemoOrganisation.ProdDbOperatorsGroupId.ToString(), DemoOrganisation.Bob.Id.ToString());
        Stub.AddMember(DemoOrganisation.ProdDbOperatorsGroupId.ToString(), Guid.NewGuid().ToString());

        var changed = await Syncer().SyncAsync(CancellationToken.None);

        var alice = await PrincipalAsync(DemoOrganisation.Alice.Id);
        Assert.Equal(("Alice Adams-Smith", "alice.smith@contoso.test", (Guid?)DemoOrganisation.Erin.Id), (alice.DisplayName, alice.UserPrincipalName, alice.ManagerId));
        Assert.Equal((Guid?)DemoOrganisation.Carol.Id, (await PrincipalAsync(DemoOrganisation.Dave.Id)).ManagerId);
        Assert.Equal([DemoOrganisation.Bob.Id], await App.Db(db => db.GroupMemberships.Where(m => m.GroupId == DemoOrganisation.ProdDbOperatorsGroupId).Select(m => m.MemberId).ToListAsync()));
        Assert.True(changed > 0);

        Assert.Equal(0, await Syncer().SyncAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AUserRemovedFromAGroupInEntra_LeavesTheGroupHere()
    {
        await App.ChangeAsync(db =>
        {
            db.GroupMemberships.Add(new GroupMembership(DemoOrganisation.ProdDbOperatorsGroupId, DemoOrganisation.Dave.Id));
            return Task.CompletedTask;
        });

        await Syncer().SyncAsync(CancellationToken.None);

        Assert.Empty(await App.Db(db => db.GroupMemberships.Where(m => m.GroupId == DemoOrganisation.ProdDbOperatorsGroupId).ToListAsync()));
        Assert.Single(await App.AuditAsync(AuditActions.GroupMemberRemoved));
    }

    [Fact]
    public async Task APasswordResetInEntra_AfterTheFirstSync_LapsesWhatWaited_VoidsTheStepUp_AndIsAlerted()
    {
        var alice = DemoOrganisation.Alice;
        await Syncer().SyncAsync(CancellationToken.None);
        var baseline = await PrincipalAsync(alice.Id);
        await App.ActivateAsync(alice, DemoOrganisation.UserAdministrator);
        var request = Assert.Single((await App.SendAs(alice, new Core.Features.Activation.ActivateRoles(
            [new Core.Features.Activation.ActivationItem(await App.EligibilityOf(alice, DemoOrganisation.GlobalAdministrator), TimeSpan.FromHours(1))],
            "Tenant-wide change", "CHG-7", "ServiceNow", null))).Items).RequestId;

        App.Time.Advance(TimeSpan.FromMinutes(2));
        Stub.ResetPassword(alice.Id.ToString(), App.Time.GetUtcNow());
        await Syncer().SyncAsync(CancellationToken.None);
        await Syncer().SyncAsync(CancellationToken.None);

        // The first sync only learnt where the account stood: no reset, no alert.
        Assert.Equal(GraphStub.GraphStub.AccountsCreated, baseline.CredentialsChangedAt);
        Assert.Equal(App.Time.GetUtcNow(), (await PrincipalAsync(alice.Id)).CredentialsChangedAt);
        Assert.Equal(ActivationRequestStatus.Lapsed, (await App.Db(db => db.ActivationRequests.AsNoTracking().SingleAsync(r => r.Id == request))).Status);
        Assert.Null((await App.Db(db => db.MfaStates.AsNoTracking().SingleAsync(m => m.PrincipalId == alice.Id))).LastVerifiedAt);
        var reset = Assert.Single(await App.AuditAsync(AuditActions.CredentialsReset));
        Assert.Contains("\"source\":\"directory sync\"", reset.Details, StringComparison.Ordinal);
        var alert = Assert.Single(await App.Db(db => db.Alerts.AsNoTracking().Where(a => a.Kind == AlertKind.CredentialsReset).ToListAsync()));
        Assert.Equal(("The credentials of Alice Adams were reset in the directory", AlertSeverity.High, (Guid?)alice.Id, (Guid?)null),
            (alert.Summary, alert.Severity, alert.PrincipalId, alert.CausedBy));
        Assert.Contains(await App.NotificationsAsync(DemoOrganisation.Erin), n => n.Kind == NotificationKind.Alert && n.Subject == alert.Summary);
    }

    [Fact]
    public async Task TheEmbeddedDirectory_HasNothingToSync()
    {
        var local = new DirectorySyncer(App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(),
            new LocalDirectoryGateway(App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(), App.Time), App.Time, App.Services.GetRequiredService<CredentialResets>(),
            App.Services.GetRequiredService<Announcer>(), new JobSignals(), new PortalEvents(), NullLogger<DirectorySyncer>.Instance);

        Assert.Equal(0, await local.SyncAsync(CancellationToken.None));
    }

    private DirectorySyncer Syncer()
    {
        var factory = App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>();
        var gateway = Stub.Gateway(App.Services);
        return new DirectorySyncer(factory, gateway, App.Time, App.Services.GetRequiredService<CredentialResets>(), App.Services.GetRequiredService<Announcer>(),
            App.Services.GetRequiredService<JobSignals>(), App.Services.GetRequiredService<PortalEvents>(), NullLogger<DirectorySyncer>.Instance);
    }

    private Task<Principal> PrincipalAsync(Guid id) => App.Db(db => db.Principals.AsNoTracking().SingleAsync(p => p.Id == id));
}
