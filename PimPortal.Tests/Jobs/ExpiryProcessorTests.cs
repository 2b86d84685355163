using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;
using PimPortal.Core.Signals;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

public sealed class ExpiryProcessorOnSqlite() : ExpiryProcessorTests(DatabaseKind.Sqlite);

public sealed class ExpiryProcessorOnPostgreSql() : ExpiryProcessorTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ExpiryProcessorOnSqlServer() : ExpiryProcessorTests(DatabaseKind.SqlServer);
#endif

public abstract class ExpiryProcessorTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task AtItsEnd_AnActivationExpiresAndLeavesTheDirectory()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        App.Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await App.Expiry.ExpireDueAsync(CancellationToken.None));
        Assert.Equal(TestApp.Start.AddHours(1), await App.Expiry.NextDueAsync(CancellationToken.None));

        App.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await App.Expiry.ExpireDueAsync(CancellationToken.None));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var activation = await App.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Expired, TestApp.Start.AddHours(1), TestApp.Start.AddHours(1)), (activation.Status, activation.EndedAt!.Value, activation.RemovedFromDirectoryAt!.Value));
        Assert.False(await App.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)));
        var expired = Assert.Single(await App.AuditAsync(AuditActions.ActivationExpired));
        Assert.Null(expired.ActorId);
        Assert.Null(await App.Expiry.NextDueAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EverythingOverdue_IsEndedInOnePass_AcrossBatches()
    {
        await SeedActivationsAsync(600, TestApp.Start.AddMinutes(30));
        App.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(600, await App.Expiry.ExpireDueAsync(CancellationToken.None));

        Assert.Equal(0, await App.Db(db => db.Activations.CountAsync(a => a.Status == ActivationStatus.Active)));
        Assert.Equal(600, (await App.AuditAsync(AuditActions.ActivationExpired)).Count);
        Assert.Equal(600, await App.Db(db => db.Outbox.CountAsync(m => m.Type == OutboxMessageType.RemoveGrant)));
    }

    [Fact]
    public async Task ADisabledAccount_LosesItsOpenActivationsAtOnce()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromHours(8))).ActivationId!.Value;
        await App.Db(db => db.Principals.Where(p => p.Id == Alice.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsEnabled, false)));

        Assert.Equal(1, await App.Expiry.ExpireDueAsync(CancellationToken.None));

        Assert.Equal(ActivationStatus.Revoked, (await App.ActivationAsync(id)).Status);
        Assert.Contains("account disabled", Assert.Single(await App.AuditAsync(AuditActions.ActivationRevoked)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARemovedEligibility_TakesItsOpenActivationWithIt()
    {
        var id = (await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromHours(8))).ActivationId!.Value;
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.ExchangeAdministrator);
        await App.Db(async db =>
        {
            (await db.Eligibilities.SingleAsync(e => e.Id == eligibility)).Remove(App.Time.GetUtcNow());
            await db.SaveChangesAsync();
        });

        Assert.Equal(1, await App.Expiry.ExpireDueAsync(CancellationToken.None));

        var activation = await App.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Revoked, (Guid?)null), (activation.Status, activation.EndedBy));
        Assert.Contains("eligibility removed", Assert.Single(await App.AuditAsync(AuditActions.ActivationRevoked)).Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APendingRequestNobodyDecides_ExpiresAfterADay_AndANewOneCanBeMade()
    {
        var request = (await App.ActivateAsync(Alice, DemoOrganisation.GlobalAdministrator, ticket: "INC1")).RequestId;
        Assert.Equal(TestApp.Start.AddHours(24), await App.Expiry.NextDueAsync(CancellationToken.None));

        App.Time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(0, await App.Expiry.ExpireDueAsync(CancellationToken.None));
        App.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, await App.Expiry.ExpireDueAsync(CancellationToken.None));

        Assert.Equal(ActivationRequestStatus.Expired, await App.Db(db => db.ActivationRequests.Where(r => r.Id == request).Select(r => r.Status).SingleAsync()));
        var expired = Assert.Single(await App.AuditAsync(AuditActions.RequestExpired));
        Assert.Equal((Alice.Id, (Guid?)null), (expired.SubjectId!.Value, expired.ActorId));
        var again = await App.ActivateAsync(Alice, DemoOrganisation.GlobalAdministrator, ticket: "INC2");
        Assert.Equal(ActivationRequestStatus.Pending, again.RequestStatus);
    }

    [Fact]
    public async Task TwoInstancesAtOnce_ExpireEachActivationExactlyOnce()
    {
        await SeedActivationsAsync(300, TestApp.Start.AddMinutes(10));
        App.Time.Advance(TimeSpan.FromMinutes(10));
        var other = new ExpiryProcessor(
            App.Services.GetRequiredService<IDbContextFactory<Core.Persistence.PimDbContext>>(), App.Time, App.Services.GetRequiredService<Core.Lifecycle.Grants>(),
            App.Services.GetRequiredService<Core.Lifecycle.ApprovedRequests>(), App.Services.GetRequiredService<Core.Lifecycle.Notifier>(), new Announcer(new JobSignals(), new PortalEvents()),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ExpiryProcessor>.Instance);

        var ended = await Task.WhenAll(Task.Run(() => App.Expiry.ExpireDueAsync(CancellationToken.None)), Task.Run(() => other.ExpireDueAsync(CancellationToken.None)));
        ended = [ended[0], ended[1], await App.Expiry.ExpireDueAsync(CancellationToken.None)];

        Assert.Equal(300, ended.Sum());
        Assert.Equal(300, (await App.AuditAsync(AuditActions.ActivationExpired)).Count);
        Assert.Equal(300, await App.Db(db => db.Outbox.CountAsync()));
    }

    /// <summary>Many principals each holding Exchange Administrator (directly in the tables: this is about expiry).</summary>
    private Task SeedActivationsAsync(int count, DateTimeOffset notAfter) => App.Db(async db =>
    {
        var role = DemoOrganisation.ExchangeAdministrator;
        for (var i = 0; i < count; i++)
        {
            var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, $"User {i}", $"user{i}@contoso.test");
            var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, TestApp.Start.AddDays(-1), null, Guid.Empty, TestApp.Start);
            var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, principal.Id, notAfter - TestApp.Start, new("Load", null, null), TestApp.Start, null);
            var activation = new RoleActivation(Guid.NewGuid(), request, TestApp.Start);
            activation.ConfirmProvisioned(TestApp.Start);
            db.AddRange(principal, eligibility, request, activation);
        }

        await db.SaveChangesAsync();
    });
}
