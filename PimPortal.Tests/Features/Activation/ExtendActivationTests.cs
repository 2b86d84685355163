using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Activation;

public sealed class ExtendActivationOnSqlite() : ExtendActivationTests(DatabaseKind.Sqlite);

public sealed class ExtendActivationOnPostgreSql() : ExtendActivationTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ExtendActivationOnSqlServer() : ExtendActivationTests(DatabaseKind.SqlServer);
#endif

public abstract class ExtendActivationTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task Extend_WithinTheMaximum_MovesTheEndAndTheDirectoryFollows()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        App.Time.Advance(TimeSpan.FromMinutes(50));

        var result = await App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(8), "Migration overran", null, null, null));

        var newEnd = TestApp.Start.AddMinutes(50).AddHours(8);
        Assert.Equal((ActivationRequestStatus.Approved, newEnd), (result.RequestStatus, result.NewNotAfter!.Value));
        Assert.Equal(newEnd, (await App.ActivationAsync(id)).NotAfter);
        var extended = Assert.Single(await App.AuditAsync(AuditActions.ActivationExtended));
        Assert.Contains("Migration overran", extended.Details, StringComparison.Ordinal);

        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        Assert.Equal(newEnd, await App.Db(db => db.DirectoryAssignments.Where(a => a.ActivationId == id).Select(a => a.ExpiresAt).SingleAsync()));
    }

    [Fact]
    public async Task Extend_BeyondTheMaximum_IsRefused()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(9), "More", null, null, null)));

        Assert.Equal("The duration 9 h is longer than this role's maximum of 8 h.", refused.Message);
        Assert.Equal(TestApp.Start.AddHours(1), (await App.ActivationAsync(id)).NotAfter);
    }

    [Fact]
    public async Task Extend_ToNoLaterThanItEndsNow_IsRefused()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromHours(4))).ActivationId!.Value;

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(2), "Shorter", null, null, null)));

        Assert.StartsWith("The activation already lasts until", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extend_MfaRoleAfterTheProofWentStale_NeedsACode()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.UserAdministrator)).ActivationId!.Value;
        App.Time.Advance(TimeSpan.FromMinutes(30));

        await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(2), "Longer", null, null, null)));
        var result = await App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(2), "Longer", null, null, App.CodeFor(Alice)));

        Assert.Equal(TestApp.Start.AddMinutes(30).AddHours(2), result.NewNotAfter);
    }

    [Fact]
    public async Task Extend_SomeoneElsesActivation_IsNotFound()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;

        await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(DemoOrganisation.Bob, new ExtendActivation(id, TimeSpan.FromHours(2), "Mine now", null, null, null)));

        Assert.Equal(TestApp.Start.AddHours(1), (await App.ActivationAsync(id)).NotAfter);
    }

    [Fact]
    public async Task Extend_AnEndedActivation_IsRefused()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await App.SendAs(Alice, new DeactivateRoles([id]));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(2), "Revive", null, null, null)));

        Assert.Equal("This activation has ended, so it cannot be extended.", refused.Message);
    }

    [Fact]
    public async Task Extend_AnApprovalRole_IsARequestThatWaitsForApproval()
    {
        var id = await App.ApprovedActivationAsync(Alice, DemoOrganisation.GlobalAdministrator, DemoOrganisation.Bob, TimeSpan.FromHours(1));
        App.Time.Advance(TimeSpan.FromMinutes(45));

        var result = await App.SendAs(Alice, new ExtendActivation(id, TimeSpan.FromHours(2), "Still configuring", "INC5", "ServiceNow", App.CodeFor(Alice)));

        Assert.Equal(ActivationRequestStatus.Pending, result.RequestStatus);
        Assert.Null(result.NewNotAfter);
        Assert.Equal(TestApp.Start.AddHours(1), (await App.ActivationAsync(id)).NotAfter);
        var request = await App.Db(db => db.ActivationRequests.SingleAsync(r => r.Kind == ActivationRequestKind.Extend));
        Assert.Equal((id, ActivationRequestStatus.Pending), (request.TargetActivationId!.Value, request.Status));

        var mine = await App.QueryAs(Alice, new GetMyRoles());
        Assert.True(Assert.Single(mine.Active).ExtensionPending);
        Assert.Equal(ActivationRequestKind.Extend, Assert.Single(mine.Pending).RequestKind);
    }
}
