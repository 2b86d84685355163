using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// Many activations ending in the same second, with the real workers on the real clock: how late is each ended in
/// the portal (EndedAt) and removed from the directory (RemovedFromDirectoryAt), relative to its NotAfter.
/// </summary>
internal static class ExpiryBenchmark
{
    public static async Task RunAsync(int count)
    {
        await using var host = await BenchHost.StartAsync(jobs: true);
        var role = DemoOrganisation.ExchangeAdministrator;
        var start = DateTimeOffset.UtcNow;
        var endsAt = start.AddSeconds(6);

        // A running portal's workers are warm: 50 activations ending two seconds in warm them before the burst.
        const int warmup = 50;
        await using (var db = await host.DbAsync())
        {
            for (var i = 0; i < count + warmup; i++)
            {
                var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Expiring {i}", $"expiring-{i}@contoso.test");
                var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, start.AddDays(-1), null, Guid.Empty, start);
                var end = i < count ? endsAt.AddMilliseconds(i * 1000.0 / count) : start.AddSeconds(2).AddMilliseconds(i - count);
                var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, principal.Id, end - start, new("Expiry benchmark", null, null), start, null);
                var activation = new RoleActivation(Guid.NewGuid(), request, start);
                activation.ConfirmProvisioned(start);
                db.AddRange(principal, eligibility, request, activation,
                    new DirectoryAssignment(Guid.NewGuid(), principal.Id, role.Id, role.Scope, activation.Id, start, activation.NotAfter));
            }

            await db.SaveChangesAsync();
        }

        var workers = host.Services.GetServices<IHostedService>().ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync(CancellationToken.None);
        }

        var watch = Stopwatch.StartNew();
        while (true)
        {
            await using var db = await host.DbAsync();
            if (await db.Activations.CountAsync(a => a.RemovedFromDirectoryAt == null) == 0 || watch.Elapsed > TimeSpan.FromMinutes(2))
            {
                break;
            }

            await Task.Delay(100);
        }

        foreach (var worker in workers)
        {
            await worker.StopAsync(CancellationToken.None);
        }

        await using var read = await host.DbAsync();
        var rows = await read.Activations.AsNoTracking().Where(a => a.NotAfter >= endsAt).Select(a => new { a.NotAfter, a.EndedAt, a.RemovedFromDirectoryAt, a.Status }).ToListAsync();
        var ended = rows.Where(r => r.EndedAt is not null).Select(r => (r.EndedAt!.Value - r.NotAfter).TotalMilliseconds).ToList();
        var removed = rows.Where(r => r.RemovedFromDirectoryAt is not null).Select(r => (r.RemovedFromDirectoryAt!.Value - r.NotAfter).TotalMilliseconds).ToList();
        Console.WriteLine();
        Console.WriteLine($"## Expiry ({count} activations ending within the same second, real workers, SQLite)");
        Console.WriteLine($"- expired: {rows.Count(r => r.Status == ActivationStatus.Expired)} of {count}; removed from the directory: {removed.Count} of {count}; still assigned: {await read.DirectoryAssignments.CountAsync(a => a.ActivationId != null)}");
        Console.WriteLine($"- ended in the portal − end: {Stats.Summary(ended)}");
        Console.WriteLine($"- removed from the directory − end: {Stats.Summary(removed)}");
    }
}
