using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Activation;

public sealed class CancelActivationRequestOnSqlite() : CancelActivationRequestTests(DatabaseKind.Sqlite);

public sealed class CancelActivationRequestOnPostgreSql() : CancelActivationRequestTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class CancelActivationRequestOnSqlServer() : CancelActivationRequestTests(DatabaseKind.SqlServer);
#endif

public abstract class CancelActivationRequestTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task Cancel_OwnPendingRequest_CancelsItWithAudit()
    {
        var request = (await App.ActivateAsync(Alice, DemoOrganisation.GlobalAdministrator, ticket: "INC1")).RequestId;

        await App.SendAs(Alice, new CancelActivationRequest(request));

        Assert.Equal(ActivationRequestStatus.Cancelled, await App.Db(db => db.ActivationRequests.Where(r => r.Id == request).Select(r => r.Status).SingleAsync()));
        var audit = Assert.Single(await App.AuditAsync(AuditActions.RequestCancelled));
        Assert.Equal((Alice.Id, request.ToString()), (audit.ActorId!.Value, audit.TargetId));
        Assert.Empty((await App.QueryAs(Alice, new GetMyRoles())).Pending);
    }

    [Fact]
    public async Task Cancel_SomeoneElsesRequest_IsNotFound()
    {
        var request = (await App.ActivateAsync(Alice, DemoOrganisation.GlobalAdministrator, ticket: "INC1")).RequestId;

        await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(DemoOrganisation.Bob, new CancelActivationRequest(request)));

        Assert.Equal(ActivationRequestStatus.Pending, await App.Db(db => db.ActivationRequests.Where(r => r.Id == request).Select(r => r.Status).SingleAsync()));
    }

    [Fact]
    public async Task Cancel_ARequestThatWasNotPending_IsRefused()
    {
        var request = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).RequestId;

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Alice, new CancelActivationRequest(request)));

        Assert.Equal("A request that is approved cannot be cancelled.", refused.Message);
    }
}
