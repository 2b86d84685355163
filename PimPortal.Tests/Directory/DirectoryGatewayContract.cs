using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Graph;
using PimPortal.Core.Directory.Local;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Directory;

public sealed class LocalDirectoryContract : DirectoryGatewayContract
{
    protected override Task<IDirectoryGateway> CreateGatewayAsync() =>
        Task.FromResult<IDirectoryGateway>(new LocalDirectoryGateway(App.Services.GetRequiredService<IDbContextFactory<PimDbContext>>(), App.Time));
}

/// <summary>Direct role assignments (Entra ID P1) and plain group membership.</summary>
public sealed class GraphDirectContract : GraphContract
{
    protected override GraphDirectoryOptions Mode => new() { DirectoryRoles = DirectoryRoleMode.Direct, Groups = GroupGrantMode.Membership };
}

/// <summary>PIM schedule requests (Entra ID P2) and PIM for Groups.</summary>
public sealed class GraphScheduleContract : GraphContract
{
    protected override GraphDirectoryOptions Mode => new() { DirectoryRoles = DirectoryRoleMode.PimSchedule, Groups = GroupGrantMode.PimForGroups };
}

/// <summary>The Graph gateway, through the real Microsoft.Graph SDK, against the local stateful Graph stub.</summary>
public abstract class GraphContract : DirectoryGatewayContract
{
    protected GraphStub.GraphStub? Stub { get; private set; }

    protected abstract GraphDirectoryOptions Mode { get; }

    protected override async Task<IDirectoryGateway> CreateGatewayAsync()
    {
        Stub = await GraphStub.GraphStub.StartAsync();
        return Stub.Gateway(App.Services, Mode.DirectoryRoles, Mode.Groups);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Stub is not null)
        {
            await Stub.DisposeAsync();
        }

        await base.DisposeAsync();
    }
}

/// <summary>
/// What every directory gateway promises the outbox: idempotent assign and remove keyed by the grant, a missing
/// assignment counting as removed, changes of one grant applied in order, and the holders listed as they are.
/// </summary>
public abstract class DirectoryGatewayContract : IAsyncLifetime
{
    private TestApp? app;
    private IDirectoryGateway? gateway;

    protected TestApp App => app!;

    protected IDirectoryGateway Gateway => gateway!;

    public async ValueTask InitializeAsync()
    {
        app = await TestApp.StartAsync(DatabaseKind.Sqlite);
        gateway = await CreateGatewayAsync();
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected abstract Task<IDirectoryGateway> CreateGatewayAsync();

    public static TheoryData<string> Roles =>
        [DemoOrganisation.GlobalAdministrator.DisplayName, DemoOrganisation.ProdDbOperators.DisplayName, DemoOrganisation.ContributorOnRgProd.DisplayName];

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Assign_MakesTheHolderAppear(string role)
    {
        var grant = Grant(role);

        var result = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None));

        Assert.Equal(DirectoryChangeOutcome.Done, result.Outcome);
        Assert.Equal(1, await HoldingAsync(grant));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task APermanentAssignment_IsHeldWithoutEnd_AndRemovable(string role)
    {
        var grant = Grant(role) with { NotAfter = RoleActivation.PermanentEnd };

        var assigned = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None));
        var held = await HoldingAsync(grant);
        var removed = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Remove, grant)], CancellationToken.None));

        Assert.Equal((DirectoryChangeOutcome.Done, 1), (assigned.Outcome, held));
        Assert.Equal(DirectoryChangeOutcome.Done, removed.Outcome);
        Assert.Equal(0, await HoldingAsync(grant));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task AssigningAgain_LeavesOneAssignment(string role)
    {
        var grant = Grant(role);
        await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None);

        var again = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None));

        Assert.Equal(DirectoryChangeOutcome.Done, again.Outcome);
        Assert.Equal(1, await HoldingAsync(grant));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Remove_TakesTheAssignmentAway(string role)
    {
        var grant = Grant(role);
        await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None);

        var removed = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Remove, grant)], CancellationToken.None));

        Assert.Equal(DirectoryChangeOutcome.Done, removed.Outcome);
        Assert.Equal(0, await HoldingAsync(grant));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task RemovingWhatIsNotThere_CountsAsRemoved(string role)
    {
        var grant = Grant(role);

        var removed = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Remove, grant)], CancellationToken.None));

        Assert.Equal(DirectoryChangeOutcome.Done, removed.Outcome);
        Assert.Equal(0, await HoldingAsync(grant));
    }

    [Fact]
    public async Task TheChangesOfOneGrant_AreAppliedInOrder_AndOthersAlongside()
    {
        var removedAgain = Grant(DemoOrganisation.GlobalAdministrator.DisplayName);
        var kept = Grant(DemoOrganisation.ProdDbOperators.DisplayName);

        var results = await Gateway.ApplyAsync(
        [
            new DirectoryChange(DirectoryChangeKind.Assign, removedAgain),
            new DirectoryChange(DirectoryChangeKind.Assign, kept),
            new DirectoryChange(DirectoryChangeKind.Remove, removedAgain),
        ], CancellationToken.None);

        Assert.All(results, r => Assert.Equal(DirectoryChangeOutcome.Done, r.Outcome));
        Assert.Equal([DirectoryChangeKind.Assign, DirectoryChangeKind.Assign, DirectoryChangeKind.Remove], results.Select(r => r.Change.Kind));
        Assert.Equal((0, 1), (await HoldingAsync(removedAgain), await HoldingAsync(kept)));
    }

    [Fact]
    public async Task Extend_OfAnAssignedGrant_IsDone()
    {
        var grant = Grant(DemoOrganisation.GlobalAdministrator.DisplayName);
        await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None);

        var extended = Assert.Single(await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Extend, grant with { NotAfter = grant.NotAfter.AddHours(1) })], CancellationToken.None));

        Assert.Equal(DirectoryChangeOutcome.Done, extended.Outcome);
        Assert.Equal(1, await HoldingAsync(grant));
    }

    [Fact]
    public async Task TheHolders_NameThePrincipalAndTheRole()
    {
        var grant = Grant(DemoOrganisation.GlobalAdministrator.DisplayName);
        await Gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Assign, grant)], CancellationToken.None);

        var holder = Assert.Single(await Gateway.ListHoldersAsync(CancellationToken.None), h => h.PrincipalId == grant.PrincipalId);

        Assert.Equal(("Alice Adams", "Global Administrator", grant.RoleId), (holder.PrincipalName, holder.RoleName, holder.RoleId));
    }

    protected DirectoryGrant Grant(string roleName)
    {
        var role = DemoOrganisation.Roles.Single(r => r.DisplayName == roleName);
        var now = App.Time.GetUtcNow();
        return new DirectoryGrant(Guid.NewGuid(), DemoOrganisation.Alice.Id, role.Id, role.Kind, role.ExternalId, role.Scope, now, now.AddHours(1));
    }

    protected async Task<int> HoldingAsync(DirectoryGrant grant) =>
        (await Gateway.ListHoldersAsync(CancellationToken.None)).Count(h => h.PrincipalId == grant.PrincipalId && h.RoleId == grant.RoleId);
}
