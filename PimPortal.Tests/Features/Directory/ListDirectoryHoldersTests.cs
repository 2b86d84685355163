using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Directory;

public sealed class ListDirectoryHoldersOnSqlite() : ListDirectoryHoldersTests(DatabaseKind.Sqlite);

public sealed class ListDirectoryHoldersOnPostgreSql() : ListDirectoryHoldersTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ListDirectoryHoldersOnSqlServer() : ListDirectoryHoldersTests(DatabaseKind.SqlServer);
#endif

public abstract class ListDirectoryHoldersTests(DatabaseKind kind) : HandlerTests(kind)
{
    [Fact]
    public async Task PimAdministrator_SeesStandingAndActivatedHolders()
    {
        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var holders = await App.QueryAs(DemoOrganisation.Erin, new ListDirectoryHolders());

        Assert.Equal(2, holders.Count);
        var exchange = Assert.Single(holders, h => h.RoleName == "Exchange Administrator");
        Assert.Equal(("Alice Adams", false, TestApp.Start.AddHours(1)), (exchange.PrincipalName, exchange.IsStanding, exchange.Until!.Value));
        var breakGlass = Assert.Single(holders, h => h.RoleName == "Global Administrator");
        Assert.Equal(("Break Glass", true, null), (breakGlass.PrincipalName, breakGlass.IsStanding, breakGlass.Until));
    }

    [Fact]
    public async Task APermissionTakenAway_CountsAtOnce_WhateverTheSessionSays()
    {
        await App.Db(db => db.UserRoles.Where(r => r.UserId == DemoOrganisation.Erin.Id).ExecuteDeleteAsync());

        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() => App.QueryAs(DemoOrganisation.Erin, new ListDirectoryHolders()));

        Assert.Equal("This needs the PimAdministrator permission.", forbidden.Message);
    }

    [Fact]
    public async Task AnyoneElse_IsForbidden()
    {
        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() => App.QueryAs(DemoOrganisation.Alice, new ListDirectoryHolders()));

        Assert.Equal("This needs the PimAdministrator permission.", forbidden.Message);
    }
}
