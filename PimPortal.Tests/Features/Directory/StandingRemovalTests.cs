using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;
using PimPortal.Tests.Jobs;

namespace PimPortal.Tests.Features.Directory;

public sealed class StandingRemovalOnSqlite() : StandingRemovalTests(DatabaseKind.Sqlite);

public sealed class StandingRemovalOnPostgreSql() : StandingRemovalTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class StandingRemovalOnSqlServer() : StandingRemovalTests(DatabaseKind.SqlServer);
#endif

/// <summary>
/// Standing removals go through the outbox: the conversion commits the eligibility, its audit event and the removal's
/// intent together; a directory that fails after that commit leaves the removal to the outbox, which retries it and
/// removes the assignment exactly once — visible on the Directory page meanwhile.
/// </summary>
public abstract class StandingRemovalTests(DatabaseKind kind) : IAsyncLifetime
{
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;
    private TestApp app = null!;

    private FlakyDirectory Directory => FlakyDirectory.Of(app);

    public async ValueTask InitializeAsync() => app = await FlakyDirectory.StartAsync(kind);

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ADirectoryFailingAfterTheRolloutsCommit_LeavesTheRemovalToALaterPass_WhichRemovesItExactlyOnce()
    {
        await app.StandingAsync(Dave, Exchange);
        await app.Services.GetRequiredService<DriftScanner>().ScanAsync(CancellationToken.None);
        Directory.Throw = true;

        var outcome = Assert.Single(await app.SendAs(Erin, new ConvertStandingAssignments([new StandingRef(Dave.Id, Exchange.Id, "/")], null, "Rollout wave 1")));

        // Committed: eligible, audited, the removal recorded — but the assignment is still in the directory.
        Assert.False(outcome.Removed);
        Assert.Contains("503", outcome.Error, StringComparison.Ordinal);
        Assert.Equal(outcome.EligibilityId, Assert.Single(await app.EligibilitiesAsync(Dave.Id, Exchange)).Id);
        Assert.Single(await app.AuditAsync(AuditActions.RolloutConverted));
        Assert.Empty(await app.AuditAsync(AuditActions.StandingRemoved));
        Assert.Contains(await Directory.ListHoldersAsync(CancellationToken.None), h => h.PrincipalId == Dave.Id && h.IsStanding);
        var pending = Assert.Single(await app.QueryAs(Erin, new GetStandingRemovals()));
        Assert.Equal((StandingRemovalStatus.Pending, 1, "Dave Davis"), (pending.Status, pending.Attempts, pending.PrincipalName));
        Assert.Contains("503", pending.Error, StringComparison.Ordinal);
        Assert.True(pending.NextAttemptAt > app.Time.GetUtcNow());

        // The outbox waits for its backoff, then retries once the directory answers again.
        Directory.Throw = false;
        Assert.Equal(0, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
        app.Time.Advance(pending.NextAttemptAt!.Value - app.Time.GetUtcNow());
        Assert.Equal(1, await app.Outbox.ProcessBatchAsync(CancellationToken.None));

        Assert.DoesNotContain(await Directory.ListHoldersAsync(CancellationToken.None), h => h.PrincipalId == Dave.Id);
        var removed = Assert.Single(await app.AuditAsync(AuditActions.StandingRemoved));
        Assert.Equal((Erin.Id, AuditOutcome.Success), (removed.ActorId, removed.Outcome));
        Assert.Single(await app.AuditAsync(AuditActions.DriftResolved), e => e.ActorId == Erin.Id);
        Assert.Equal(0, await app.Db(db => db.DriftFindings.CountAsync(f => f.ResolvedAt == null)));
        Assert.Empty(await app.QueryAs(Erin, new GetStandingRemovals()));

        // Exactly once: nothing is left for a later pass, and the directory was asked twice in all (the failure, the removal).
        app.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await app.Outbox.ProcessBatchAsync(CancellationToken.None));
        Assert.Equal(2, Directory.Calls);
        Assert.Single(await app.AuditAsync(AuditActions.StandingRemoved));
    }

    [Fact]
    public async Task ARemovalTheDirectoryRefuses_IsShownAsFailed_AndItsAlertStaysOpen()
    {
        await app.StandingAsync(Dave, Exchange);
        var scanner = app.Services.GetRequiredService<DriftScanner>();
        await scanner.ScanAsync(CancellationToken.None);
        var finding = await app.Db(db => db.DriftFindings.Select(f => f.Id).SingleAsync());
        Directory.Answer = DirectoryChangeOutcome.Refused;

        var result = await app.SendAs(Erin, new ConvertDriftToEligibility(finding, "Standing becomes eligible"));

        Assert.False(result.Removed);
        Assert.Contains("RoleNotFound", result.Error, StringComparison.Ordinal);
        var failed = Assert.Single(await app.QueryAs(Erin, new GetStandingRemovals()));
        Assert.Equal((StandingRemovalStatus.Failed, (DateTimeOffset?)null), (failed.Status, failed.NextAttemptAt));
        Assert.Contains("RoleNotFound", failed.Error, StringComparison.Ordinal);
        var audit = Assert.Single(await app.AuditAsync(AuditActions.StandingRemovalFailed));
        Assert.Equal((Erin.Id, AuditOutcome.Failed), (audit.ActorId, audit.Outcome));
        Assert.Equal(1, await scanner.ScanAsync(CancellationToken.None));
        Assert.Equal(0, await app.Outbox.ProcessBatchAsync(CancellationToken.None));

        // Once the cause is fixed, converting again removes it (the eligibility made the first time stands).
        Directory.Answer = null;
        var again = await app.SendAs(Erin, new ConvertDriftToEligibility(finding, "Second try, after the directory was fixed"));

        Assert.True(again.Removed);
        Assert.Equal(result.EligibilityId, again.EligibilityId);
        Assert.Equal(0, await scanner.ScanAsync(CancellationToken.None));
    }

    [Fact]
    public async Task WhileARemovalWaits_TheHolderCannotActivate_AndAGrantOfThePortal_HoldsTheRemovalUntilItIsGone()
    {
        await app.StandingAsync(Dave, Exchange);
        Directory.Throw = true;
        await app.SendAs(Erin, new ConvertStandingAssignments([new StandingRef(Dave.Id, Exchange.Id, "/")], null, "Rollout wave 1"));

        // The standing assignment is still there: activating would take it away at the activation's end.
        var refused = await Assert.ThrowsAsync<RefusedException>(() => app.ActivateAsync(Dave, Exchange));
        Assert.Contains("standing assignment", refused.Message, StringComparison.Ordinal);

        // An administrator's grant of the same role: the removal waits for it, rather than remove it with the standing one.
        var grant = await app.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, app.Time.GetUtcNow().AddHours(2), "Mailbox migration"));
        Directory.Throw = false;
        app.Time.Advance(TimeSpan.FromMinutes(1));
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Equal(ActivationStatus.Active, (await app.ActivationAsync(grant)).Status);
        Assert.Contains(await Directory.ListHoldersAsync(CancellationToken.None), h => h.PrincipalId == Dave.Id && h.IsStanding);
        var waiting = Assert.Single(await app.QueryAs(Erin, new GetStandingRemovals()));
        Assert.Equal((StandingRemovalStatus.Pending, OutboxProcessor.HeldBecause), (waiting.Status, waiting.Error));

        // Once the grant has ended and left the directory, the standing assignment goes too.
        await app.SendAs(Erin, new RemoveActiveAssignment(grant, "Migration done"));
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);
        Assert.NotNull((await app.ActivationAsync(grant)).RemovedFromDirectoryAt);
        app.Time.Advance(OutboxProcessor.HeldRetry);
        await app.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.DoesNotContain(await Directory.ListHoldersAsync(CancellationToken.None), h => h.PrincipalId == Dave.Id);
        Assert.Single(await app.AuditAsync(AuditActions.StandingRemoved));
        Assert.Empty(await app.QueryAs(Erin, new GetStandingRemovals()));
    }

    [Fact]
    public async Task ConvertingWhileARemovalIsOnItsWay_IsRefused()
    {
        await app.StandingAsync(Dave, Exchange);
        Directory.Answer = DirectoryChangeOutcome.RetryLater;
        await app.SendAs(Erin, new ConvertStandingAssignments([new StandingRef(Dave.Id, Exchange.Id, "/")], null, "Rollout wave 1"));

        var twice = await Assert.ThrowsAsync<RefusedException>(() => app.SendAs(Erin, new ConvertStandingAssignments([new StandingRef(Dave.Id, Exchange.Id, "/")], null, "Again")));

        Assert.Contains("being removed already", twice.Message, StringComparison.Ordinal);
        Assert.Single(await app.Db(db => db.StandingRemovals.ToListAsync()));
    }
}
