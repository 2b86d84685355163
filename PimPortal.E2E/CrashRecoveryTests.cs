using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Audit;
using PimPortal.Core.Domain;
using PimPortal.E2E.Infrastructure;

namespace PimPortal.E2E;

/// <summary>
/// The real portal process killed with SIGKILL while its outbox and expiry workers are busy, then started again: every
/// overdue activation is ended and removed from the directory, no grant is written twice, no audit event is lost (the
/// trail verifies), no pending request is lost — on SQLite and on PostgreSQL. And SIGTERM stops it cleanly.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const int Grants = 60;
    private const int Pending = 5;

    [Theory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.PostgreSql)]
    public async Task AfterAKillMidRun_TheNextStartEndsEverythingOverdue_Once_AndLosesNothing(DatabaseProvider provider)
    {
        await using var database = await SharedDatabase.CreateAsync(provider);
        var settings = database.Settings();

        // A first start migrates the database and seeds the demo; SIGTERM stops it cleanly.
        await using (var first = await PortalProcess.StartAsync(settings))
        {
            Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(30)));
        }

        // With no portal running: grants ending three to six seconds from now, not yet in the directory, and requests
        // waiting for approval — written through the lifecycle layer, as the portal writes them.
        var now = DateTimeOffset.UtcNow;
        var activations = await database.AddGrantsAsync(Grants, now.AddSeconds(3), TimeSpan.FromSeconds(3));
        var requests = await database.AddPendingRequestsAsync(Pending);
        var lastEnd = await database.DbAsync(db => db.Activations.Where(a => activations.Contains(a.Id)).MaxAsync(a => a.NotAfter));

        // The portal provisions them and starts ending them; it is killed as soon as the first has ended.
        await using (var crashing = await PortalProcess.StartAsync(settings))
        {
            var notDone = 0;
            await Until(async () =>
            {
                var ended = await database.DbAsync(db => db.Activations.CountAsync(a => activations.Contains(a.Id) && a.EndedAt != null));
                notDone = await database.DbAsync(db => db.Activations.CountAsync(a => activations.Contains(a.Id) && a.RemovedFromDirectoryAt == null));
                return ended > 0;
            }, "the first grant to end", crashing);
            await crashing.KillAsync();
            Assert.True(notDone > 0, "Everything was done before the kill: the test proved nothing.");
        }

        // Every grant's end passes while no portal runs; then it starts again.
        while (DateTimeOffset.UtcNow < lastEnd.AddMilliseconds(200))
        {
            await Task.Delay(50);
        }

        await using var again = await PortalProcess.StartAsync(settings, waitUntilReady: false);
        await Until(() => database.DbAsync(db => db.Activations.AllAsync(a => !activations.Contains(a.Id) || a.RemovedFromDirectoryAt != null)), "every overdue grant to be removed from the directory", again);
        var lastRemoved = await database.DbAsync(db => db.Activations.Where(a => activations.Contains(a.Id)).MaxAsync(a => a.RemovedFromDirectoryAt!.Value));
        TestContext.Current.TestOutputHelper?.WriteLine($"{provider}: every overdue grant removed {(lastRemoved - again.StartedAt).TotalSeconds:0.00} s after the process was started again.");

        var ids = activations.Select(a => a.ToString()).ToList();
        var events = await database.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetType == "activation" && ids.Contains(e.TargetId)).Select(e => new { e.TargetId, e.Action }).ToListAsync());
        foreach (var id in ids)
        {
            var of = events.Where(e => e.TargetId == id).GroupBy(e => e.Action).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(1, of.GetValueOrDefault(AuditActions.ActivationGranted));
            Assert.Equal(1, of.GetValueOrDefault(AuditActions.ActivationExpired));
            Assert.True(of.GetValueOrDefault(AuditActions.ActivationProvisioned) <= 1, $"{id} was provisioned {of.GetValueOrDefault(AuditActions.ActivationProvisioned)} times.");
            Assert.True(of.GetValueOrDefault(AuditActions.ActivationRemovedFromDirectory) <= 1, $"{id} was removed {of.GetValueOrDefault(AuditActions.ActivationRemovedFromDirectory)} times.");
        }

        Assert.Equal(0, await database.DbAsync(db => db.DirectoryAssignments.CountAsync(d => d.ActivationId != null && activations.Contains(d.ActivationId.Value))));
        Assert.Equal(Pending, await database.DbAsync(db => db.ActivationRequests.CountAsync(r => requests.Contains(r.Id) && r.Status == ActivationRequestStatus.Pending)));
        await Until(() => database.DbAsync(db => db.Outbox.AllAsync(m => m.ProcessedAt != null)), "the outbox to be empty (a provisioning owed for a grant already removed is completed without a write)", again);

        // SIGTERM: the portal stops taking work and exits within the host's shutdown timeout; then the trail verifies.
        Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(45)));
        var trail = database.Services.GetRequiredService<AuditTrail>();
        await trail.SealAsync(CancellationToken.None);
        var verification = await trail.VerifyAsync(CancellationToken.None);
        Assert.True(verification.Intact, verification.Summary);
    }

    private static async Task Until(Func<Task<bool>> condition, string what, PortalProcess portal)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(60) || portal.HasExited)
            {
                Assert.Fail($"Waited {watch.Elapsed.TotalSeconds:0} s for {what}; it did not happen.\n{portal.Output}");
            }

            await Task.Delay(20);
        }
    }
}
