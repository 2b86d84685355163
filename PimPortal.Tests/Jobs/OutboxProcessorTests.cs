using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Local;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

public sealed class OutboxProcessorOnSqlite() : OutboxProcessorTests(DatabaseKind.Sqlite);

public sealed class OutboxProcessorOnPostgreSql() : OutboxProcessorTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class OutboxProcessorOnSqlServer() : OutboxProcessorTests(DatabaseKind.SqlServer);
#endif

public abstract class OutboxProcessorTests(DatabaseKind kind) : IAsyncLifetime
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private TestApp app = null!;

    private FlakyDirectory Directory => FlakyDirectory.Of(app);

    public async ValueTask InitializeAsync() => app = await FlakyDirectory.StartAsync(kind);

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task WhileTheDirectoryHasNotConfirmed_MyRolesSaysWhatIsBeingRetried_AndWhen()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Assert.Null((await app.QueryAs(Alice, new Core.Features.Activation.GetMyRoles())).Active.Single().Progress);
        Directory.Answer = DirectoryChangeOutcome.RetryLater;

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        var progress = (await app.QueryAs(Alice, new Core.Features.Activation.GetMyRoles())).Active.Single(a => a.ActivationId == id).Progress;
        Assert.Equal((1, "429 Too Many Requests"), (progress!.Attempts, progress.LastError));
        Assert.True(progress.NextAttemptAt > app.Time.GetUtcNow());

        Directory.Answer = null;
        app.Time.Advance(progress.NextAttemptAt - app.Time.GetUtcNow());
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        var confirmed = (await app.QueryAs(Alice, new Core.Features.Activation.GetMyRoles())).Active.Single(a => a.ActivationId == id);
        Assert.Equal((ActivationStatus.Active, (Core.Features.Activation.DirectoryProgress?)null), (confirmed.Status, confirmed.Progress));
    }

    [Fact]
    public async Task TransientFailure_IsRetriedWithBackoff_ThenConfirmed()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.Answer = DirectoryChangeOutcome.RetryLater;

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        var message = await app.Db(db => db.Outbox.SingleAsync());
        Assert.Equal((1, TestApp.Start.AddSeconds(2), "429 Too Many Requests"), (message.Attempts, message.DueAt, message.LastError));
        Assert.Equal(ActivationStatus.Provisioning, (await app.ActivationAsync(id)).Status);
        Assert.Equal(0, await app.Outbox.ProcessBatchAsync(CancellationToken.None));

        Directory.Answer = null;
        app.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));

        var activation = await app.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Active, TestApp.Start.AddSeconds(2)), (activation.Status, activation.ConfirmedAt!.Value));
    }

    [Fact]
    public async Task DirectoryThrowing_LeavesTheMessageForLater()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.Throw = true;

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Equal(1, (await app.Db(db => db.Outbox.SingleAsync())).Attempts);
        Assert.Equal(ActivationStatus.Provisioning, (await app.ActivationAsync(id)).Status);
    }

    [Fact]
    public async Task RefusedByTheDirectory_FailsTheActivationWithItsReason()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.Answer = DirectoryChangeOutcome.Refused;

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        var activation = await app.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Failed, "RoleNotFound"), (activation.Status, activation.FailureReason));
        var failed = Assert.Single(await app.AuditAsync(AuditActions.ActivationProvisioningFailed));
        Assert.Equal(AuditOutcome.Failed, failed.Outcome);
        Assert.NotNull((await app.Db(db => db.Outbox.SingleAsync())).ProcessedAt);
    }

    [Fact]
    public async Task TooManyAttempts_GivesUpAndFailsTheActivation()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.Answer = DirectoryChangeOutcome.RetryLater;

        for (var attempt = 0; attempt < 8; attempt++)
        {
            Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
            app.Time.Advance(TimeSpan.FromMinutes(5));
        }

        Assert.Equal(ActivationStatus.Failed, (await app.ActivationAsync(id)).Status);
        Assert.Equal(0, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
    }

    [Fact]
    public async Task RemovalFailures_AreRetriedForever()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        app.Time.Advance(TimeSpan.FromHours(1));
        await app.Expiry.ExpireDueAsync(CancellationToken.None);
        Directory.Answer = DirectoryChangeOutcome.RetryLater;

        for (var attempt = 0; attempt < 12; attempt++)
        {
            Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
            app.Time.Advance(TimeSpan.FromMinutes(5));
        }

        Directory.Answer = null;
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        Assert.NotNull((await app.ActivationAsync(id)).RemovedFromDirectoryAt);
        Assert.False(await app.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)));
    }

    [Fact]
    public async Task TwoWorkersAtOnce_ProcessEachMessageExactlyOnce()
    {
        foreach (var role in new[] { DemoOrganisation.ExchangeAdministrator, DemoOrganisation.UserAdministrator, DemoOrganisation.ContributorOnRgProd, DemoOrganisation.ProdDbOperators })
        {
            await app.ActivateAsync(Alice, role);
        }

        var second = new Core.Lifecycle.OutboxProcessor(
            app.Services.GetRequiredService<IDbContextFactory<Core.Persistence.PimDbContext>>(), app.Services.GetRequiredService<LocalDirectoryGateway>(), app.Time,
            app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Core.PimOptions>>(), app.Services.GetRequiredService<Core.Signals.Announcer>(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Core.Lifecycle.OutboxProcessor>.Instance);

        var claimed = await Task.WhenAll(Task.Run(() => app.Outbox.ProcessBatchAsync(CancellationToken.None)), Task.Run(() => second.ProcessBatchAsync(CancellationToken.None)));

        Assert.Equal(4, claimed.Sum());
        Assert.Equal(4, (await app.AuditAsync(AuditActions.ActivationProvisioned)).Count);
        Assert.Equal(4, await app.Db(db => db.DirectoryAssignments.CountAsync(a => a.ActivationId != null)));
        Assert.All(await app.Db(db => db.Activations.ToListAsync()), a => Assert.Equal(ActivationStatus.Active, a.Status));
    }

    [Fact]
    public async Task AGrantThatEndedBeforeTheDirectoryTookIt_LeavesTheDirectoryOnce()
    {
        // Its provisioning and its removal are both owed when the directory answers again (as after a crash): the first removes it.
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.Throw = true;
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        await app.SendAs(Alice, new Core.Features.Activation.DeactivateRoles([id]));
        Directory.Throw = false;
        app.Time.Advance(TimeSpan.FromMinutes(1));

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Single(await app.AuditAsync(AuditActions.ActivationRemovedFromDirectory));
        Assert.NotNull((await app.ActivationAsync(id)).RemovedFromDirectoryAt);
        Assert.Equal(0, await app.Db(db => db.Outbox.CountAsync(m => m.ProcessedAt == null)));
    }

    [Fact]
    public async Task ClaimsADeadRunOfThisInstanceLeft_AreFreedWhenItStartsAgain_AnotherInstancesAreNot()
    {
        await using var other = app.SecondInstance(new Dictionary<string, string?> { ["Pim:Jobs:InstanceName"] = "another-instance" });
        await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator);
        int? releasedByOther = null, releasedBySelf = null;
        Directory.WhileWriting = async () =>
        {
            // While this run holds the claim: another instance leaves it alone (on a shared database); a new run of
            // this instance — its predecessor died holding it — frees it, and it is taken at once.
            releasedByOther = await other.Outbox.ReleaseAbandonedClaimsAsync(CancellationToken.None);
            releasedBySelf = kind == DatabaseKind.Sqlite ? 1 : await app.Outbox.ReleaseAbandonedClaimsAsync(CancellationToken.None);
            Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
        };

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        // SQLite holds one instance: any claim found at a start is a dead run's.
        Assert.Equal((kind == DatabaseKind.Sqlite ? 1 : 0, 1), (releasedByOther, releasedBySelf));
        Assert.Single(await app.AuditAsync(AuditActions.ActivationProvisioned));
    }

    [Fact]
    public async Task StoppingMidWrite_ReleasesTheClaim_AndAnotherInstanceTakesItAtOnce()
    {
        await using var other = app.SecondInstance(new Dictionary<string, string?> { ["Pim:Jobs:InstanceName"] = "another-instance" });
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        using var stopping = new CancellationTokenSource();
        Directory.WhileWriting = () => stopping.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => app.Outbox.ProcessBatchAsync(stopping.Token));

        Assert.Null(await app.Db(db => db.Outbox.Select(m => m.LockedBy).SingleAsync()));
        Assert.Equal(1, await other.Outbox.ProcessBatchAsync(CancellationToken.None));
        Assert.Equal(ActivationStatus.Active, (await app.ActivationAsync(id)).Status);
        Assert.Single(await app.AuditAsync(AuditActions.ActivationProvisioned));
    }
}

public sealed class OutboxRaceTests : IAsyncLifetime
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private TestApp app = null!;

    private FlakyDirectory Directory => FlakyDirectory.Of(app);

    public async ValueTask InitializeAsync() => app = await FlakyDirectory.StartAsync(DatabaseKind.Sqlite);

    public async ValueTask DisposeAsync() => await app.DisposeAsync();

    [Fact]
    public async Task AGrantDeactivatedWhileBeingWritten_EndsRemovedFromTheDirectory()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.WhileWriting = () => app.SendAs(Alice, new Core.Features.Activation.DeactivateRoles([id]));

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        while (await app.Outbox.ProcessBatchAsync(CancellationToken.None) > 0)
        {
        }

        Assert.False(await app.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)));
        var activation = await app.ActivationAsync(id);
        Assert.Equal(ActivationStatus.Deactivated, activation.Status);
        Assert.NotNull(activation.RemovedFromDirectoryAt);
        Assert.Equal(0, await app.Db(db => db.Outbox.CountAsync(m => m.ProcessedAt == null)));
    }

    [Fact]
    public async Task AGrantDeliveredTwice_StaysInTheDirectory()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        await app.Db(async db =>
        {
            db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, id, app.Time.GetUtcNow()));
            await db.SaveChangesAsync();
        });

        Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));

        Assert.Equal(ActivationStatus.Active, (await app.ActivationAsync(id)).Status);
        Assert.True(await app.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)));
        Assert.Single(await app.AuditAsync(AuditActions.ActivationProvisioned));
        Assert.Equal(0, await app.Db(db => db.Outbox.CountAsync(m => m.ProcessedAt == null)));
    }

    [Fact]
    public async Task AWorkerWhoseLeaseRanOut_CannotRecordWhatAnotherAlreadyDid()
    {
        var id = (await app.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        Directory.WhileWriting = async () =>
        {
            // The first worker stalls past its lease; a second takes the message and finishes it.
            app.Time.Advance(TimeSpan.FromMinutes(2));
            Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
        };

        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Single(await app.AuditAsync(AuditActions.ActivationProvisioned));
        Assert.Equal(ActivationStatus.Active, (await app.ActivationAsync(id)).Status);
        Assert.Equal(1, await app.Db(db => db.Outbox.CountAsync(m => m.ProcessedAt != null)));
    }
}
