using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

/// <summary>"Assigned outside the portal": the drift scan over the local directory and over Graph (the stub).</summary>
public sealed class DriftScanTests : IAsyncLifetime
{
    private TestApp? app;
    private GraphStub.GraphStub? stub;

    private TestApp App => app!;

    public async ValueTask InitializeAsync() => app = await TestApp.StartAsync(DatabaseKind.Sqlite);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        if (stub is not null)
        {
            await stub.DisposeAsync();
        }
    }

    [Fact]
    public async Task AStandingAssignment_OpensAnAlert_AndItsRemovalResolvesIt_WhileBreakGlassAndActivationsAreNotAlerts()
    {
        var scanner = App.Services.GetRequiredService<DriftScanner>();
        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        Assert.Equal(0, await scanner.ScanAsync(CancellationToken.None));

        var standing = Guid.NewGuid();
        await App.ChangeAsync(db =>
        {
            var role = DemoOrganisation.GlobalAdministrator;
            db.DirectoryAssignments.Add(new DirectoryAssignment(standing, DemoOrganisation.Bob.Id, role.Id, role.Scope, null, App.Time.GetUtcNow(), null));
            return Task.CompletedTask;
        });

        Assert.Equal(1, await scanner.ScanAsync(CancellationToken.None));
        App.Time.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(1, await scanner.ScanAsync(CancellationToken.None));

        var finding = Assert.Single(await App.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));
        Assert.Equal(("Bob Brown", "Global Administrator", TestApp.Start, TestApp.Start.AddMinutes(15)), (finding.PrincipalName, finding.RoleName, finding.FirstSeenAt, finding.LastSeenAt));
        Assert.Single(await App.AuditAsync(AuditActions.DriftDetected));
        await Assert.ThrowsAsync<Core.ForbiddenException>(() => App.QueryAs(DemoOrganisation.Alice, new GetDriftFindings()));

        await App.ChangeAsync(async db => db.DirectoryAssignments.Remove(await db.DirectoryAssignments.SingleAsync(a => a.Id == standing)));
        Assert.Equal(0, await scanner.ScanAsync(CancellationToken.None));
        Assert.Empty(await App.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));
        Assert.Single(await App.AuditAsync(AuditActions.DriftResolved));
    }

    [Fact]
    public async Task AnAssignmentMadeInEntra_ByHand_IsAnAlert()
    {
        stub = await GraphStub.GraphStub.StartAsync();
        var gateway = stub.Gateway(App.Services);
        var scanner = new DriftScanner(App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(), gateway, App.Time, NullLogger<DriftScanner>.Instance);
        stub.AddRoleAssignment(DemoOrganisation.Carol.Id.ToString(), DemoOrganisation.PrivilegedRoleAdministrator.ExternalId);
        stub.AddRoleAssignment(DemoOrganisation.BreakGlass.Id.ToString(), DemoOrganisation.GlobalAdministrator.ExternalId);

        Assert.Equal(1, await scanner.ScanAsync(CancellationToken.None));

        var finding = Assert.Single(await App.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));
        Assert.Equal(("Carol Clark", "Privileged Role Administrator"), (finding.PrincipalName, finding.RoleName));
    }

    [Fact]
    public async Task AnAdministrator_TurnsTheAlertIntoAnEligibility_AndTheStandingAssignmentGoes()
    {
        var scanner = App.Services.GetRequiredService<DriftScanner>();
        var role = DemoOrganisation.ExchangeAdministrator;
        await App.ChangeAsync(db =>
        {
            db.DirectoryAssignments.Add(new DirectoryAssignment(Guid.NewGuid(), DemoOrganisation.Dave.Id, role.Id, role.Scope, null, App.Time.GetUtcNow(), null));
            return Task.CompletedTask;
        });
        await scanner.ScanAsync(CancellationToken.None);
        var finding = Assert.Single(await App.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));

        await Assert.ThrowsAsync<Core.ForbiddenException>(() => App.SendAs(DemoOrganisation.Alice, new ConvertDriftToEligibility(finding.Id, "mine now")));
        var result = await App.SendAs(DemoOrganisation.Erin, new ConvertDriftToEligibility(finding.Id, "Rollout: standing to eligible"));

        Assert.True(result.Removed);
        var eligibility = await App.Db(db => db.Eligibilities.AsNoTracking().SingleAsync(e => e.Id == result.EligibilityId));
        Assert.Equal((DemoOrganisation.Dave.Id, role.Id, (DateTimeOffset?)null, DemoOrganisation.Erin.Id), (eligibility.PrincipalId, eligibility.RoleId, eligibility.NotAfter, eligibility.CreatedBy));
        Assert.DoesNotContain(await App.Services.GetRequiredService<IDirectoryGateway>().ListHoldersAsync(CancellationToken.None), h => h.PrincipalId == DemoOrganisation.Dave.Id);
        Assert.Empty(await App.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));
        Assert.Single(await App.AuditAsync(AuditActions.EligibilityCreated));
        Assert.Contains(await App.AuditAsync(AuditActions.DriftResolved), e => e.ActorId == DemoOrganisation.Erin.Id);
        Assert.Equal(0, await scanner.ScanAsync(CancellationToken.None));

        var eligibleNow = await App.QueryAs(DemoOrganisation.Dave, new Core.Features.Activation.GetMyRoles());
        Assert.Contains(eligibleNow.Eligible, e => e.RoleName == role.DisplayName);
    }

    [Fact]
    public async Task InEntra_TheStandingAssignmentIsRemovedThroughGraph()
    {
        stub = await GraphStub.GraphStub.StartAsync();
        await using var entra = await TestApp.StartAsync(DatabaseKind.Sqlite, services => services.UseGraphStub(stub));
        stub.AddRoleAssignment(DemoOrganisation.Carol.Id.ToString(), DemoOrganisation.PrivilegedRoleAdministrator.ExternalId);
        await entra.Services.GetRequiredService<DriftScanner>().ScanAsync(CancellationToken.None);
        var finding = Assert.Single(await entra.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));

        var result = await entra.SendAs(DemoOrganisation.Erin, new ConvertDriftToEligibility(finding.Id, "Rollout"));

        Assert.True(result.Removed);
        Assert.Empty(stub.RoleAssignments());
    }

    [Fact]
    public async Task SomeoneHoldingTheRoleStanding_CannotActivateIt_ForItsEndWouldTakeTheStandingOneAway()
    {
        var role = DemoOrganisation.GlobalAdministrator;
        await App.ChangeAsync(db =>
        {
            db.DirectoryAssignments.Add(new DirectoryAssignment(Guid.NewGuid(), DemoOrganisation.Bob.Id, role.Id, role.Scope, null, App.Time.GetUtcNow(), null));
            return Task.CompletedTask;
        });

        var refused = await Assert.ThrowsAsync<Core.RefusedException>(() => App.RequestAsync(DemoOrganisation.Bob, role));

        Assert.Equal("You already hold this role permanently in the directory (a standing assignment); ask a PIM administrator to make it eligible instead.", refused.Message);
    }

    [Fact]
    public async Task AnAlertIsNotConverted_WhileAnActivationOfThePortalHoldsTheRole()
    {
        var role = DemoOrganisation.ExchangeAdministrator;
        var finding = Guid.NewGuid();
        await App.ActivateAsync(DemoOrganisation.Alice, role);
        await App.ChangeAsync(db =>
        {
            db.Add(new DriftFinding(finding, DemoOrganisation.Alice.Id, role.Id, role.Scope, App.Time.GetUtcNow().AddHours(-1)));
            return Task.CompletedTask;
        });

        var refused = await Assert.ThrowsAsync<Core.RefusedException>(() => App.SendAs(DemoOrganisation.Erin, new ConvertDriftToEligibility(finding, "Rollout")));

        Assert.Contains("An activation of the portal holds this role now", refused.Message, StringComparison.Ordinal);
        Assert.Empty(await App.AuditAsync(AuditActions.EligibilityCreated));
    }
}
