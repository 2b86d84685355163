using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Graph;
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
        var options = new GraphDirectoryOptions { BaseUrl = stub.BaseUrl, ArmUrl = stub.ArmUrl };
        var gateway = new GraphDirectoryGateway(GraphClients.Create(options), new ArmRoleWriter(options), Options.Create(options),
            App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(), NullLogger<GraphDirectoryGateway>.Instance);
        var scanner = new DriftScanner(App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(), gateway, App.Time, NullLogger<DriftScanner>.Instance);
        stub.AddRoleAssignment(DemoOrganisation.Carol.Id.ToString(), DemoOrganisation.PrivilegedRoleAdministrator.ExternalId);
        stub.AddRoleAssignment(DemoOrganisation.BreakGlass.Id.ToString(), DemoOrganisation.GlobalAdministrator.ExternalId);

        Assert.Equal(1, await scanner.ScanAsync(CancellationToken.None));

        var finding = Assert.Single(await App.QueryAs(DemoOrganisation.Erin, new GetDriftFindings()));
        Assert.Equal(("Carol Clark", "Privileged Role Administrator"), (finding.PrincipalName, finding.RoleName));
    }
}
