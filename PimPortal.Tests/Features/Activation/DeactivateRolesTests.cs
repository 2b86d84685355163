using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Activation;

public sealed class DeactivateRolesOnSqlite() : DeactivateRolesTests(DatabaseKind.Sqlite);

public sealed class DeactivateRolesOnPostgreSql() : DeactivateRolesTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class DeactivateRolesOnSqlServer() : DeactivateRolesTests(DatabaseKind.SqlServer);
#endif

public abstract class DeactivateRolesTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task Deactivate_OwnActiveRole_EndsItAndRemovesItFromTheDirectory()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        App.Time.Advance(TimeSpan.FromMinutes(20));

        Assert.Equal(1, await App.SendAs(Alice, new DeactivateRoles([id])));

        var activation = await App.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Deactivated, TestApp.Start.AddMinutes(20), Alice.Id), (activation.Status, activation.EndedAt!.Value, activation.EndedBy!.Value));
        Assert.Single(await App.AuditAsync(AuditActions.ActivationDeactivated));

        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.False(await App.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)));
        Assert.Equal(TestApp.Start.AddMinutes(20), (await App.ActivationAsync(id)).RemovedFromDirectoryAt);
        Assert.Single(await App.AuditAsync(AuditActions.ActivationRemovedFromDirectory));
    }

    [Fact]
    public async Task Deactivate_SeveralAtOnce_EndsThemAll()
    {
        var exchange = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        var userAdmin = (await App.ActivateAsync(Alice, DemoOrganisation.UserAdministrator)).ActivationId!.Value;

        Assert.Equal(2, await App.SendAs(Alice, new DeactivateRoles([exchange, userAdmin])));

        Assert.Equal(ActivationStatus.Deactivated, (await App.ActivationAsync(exchange)).Status);
        Assert.Equal(ActivationStatus.Deactivated, (await App.ActivationAsync(userAdmin)).Status);
    }

    [Fact]
    public async Task Deactivate_WhileStillProvisioning_LeavesNothingInTheDirectory()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;

        await App.SendAs(Alice, new DeactivateRoles([id]));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.False(await App.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)));
        Assert.Equal(ActivationStatus.Deactivated, (await App.ActivationAsync(id)).Status);
        Assert.Empty(await App.AuditAsync(AuditActions.ActivationProvisioned));
    }

    [Fact]
    public async Task Deactivate_SomeoneElsesActivation_IsNotFoundAndChangesNothing()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;

        var notFound = await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(DemoOrganisation.Bob, new DeactivateRoles([id])));

        Assert.Equal("That activation is not one of yours.", notFound.Message);
        Assert.Equal(ActivationStatus.Provisioning, (await App.ActivationAsync(id)).Status);
        Assert.Empty(await App.AuditAsync(AuditActions.ActivationDeactivated));
    }

    [Fact]
    public async Task Deactivate_MixingOwnAndForeignIds_ChangesNothing()
    {
        var mine = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;

        await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(Alice, new DeactivateRoles([mine, Guid.NewGuid()])));

        Assert.Equal(ActivationStatus.Provisioning, (await App.ActivationAsync(mine)).Status);
    }

    [Fact]
    public async Task Deactivate_Twice_IsRefusedTheSecondTime()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await App.SendAs(Alice, new DeactivateRoles([id]));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new DeactivateRoles([id])));

        Assert.Equal("Exchange Administrator is already deactivated.", refused.Message);
        Assert.Single(await App.AuditAsync(AuditActions.ActivationDeactivated));
    }

    [Fact]
    public async Task Deactivate_Nothing_IsRejected() =>
        await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Alice, new DeactivateRoles([])));
}
