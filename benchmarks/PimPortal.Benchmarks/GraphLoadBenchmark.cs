using System.Diagnostics;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Graph;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// The portal writing grants to Graph — the local stateful stub, through the real Microsoft.Graph SDK — with the real
/// outbox and expiry workers on the real clock:
/// (1) with 50 ms added to every Graph answer, the time from an activation to "confirmed in the directory";
/// (2) 1,000 short grants with 20% of Graph's answers 429: all converge, none duplicated, none left after its end.
/// </summary>
internal static class GraphLoadBenchmark
{
    public static async Task RunAsync(int grants)
    {
        await ConfirmationLatencyAsync(300);
        await ThrottledBurstAsync(grants);
    }

    private static async Task ConfirmationLatencyAsync(int activations)
    {
        await using var stub = await GraphStub.GraphStub.StartAsync();
        stub.Latency = TimeSpan.FromMilliseconds(50);
        await using var host = await StartAsync(stub);
        var role = DemoOrganisation.ExchangeAdministrator;
        var users = await host.AddEligibleUsersAsync(activations, role);
        await StartWorkersAsync(host);

        // One after another, as people do: each activation through the whole pipeline, then its confirmation awaited.
        var latencies = new List<double>();
        foreach (var (user, eligibility) in users)
        {
            await using var scope = host.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(user);
            var watch = Stopwatch.StartNew();
            var result = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ActivateRoles(
                [new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Graph latency benchmark", null, null, null));
            var id = result.Items.Single().ActivationId!.Value;
            while (true)
            {
                await using var db = await host.DbAsync();
                if (await db.Activations.AnyAsync(a => a.Id == id && a.Status == ActivationStatus.Active))
                {
                    break;
                }

                await Task.Delay(2);
            }

            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        await StopWorkersAsync(host);
        Console.WriteLine();
        Console.WriteLine($"## Graph: activation to \"confirmed in the directory\" ({activations} activations one after another, 50 ms added to every Graph answer)");
        Console.WriteLine($"- command sent → Active (confirmed), as the user sees it: {Stats.Summary(latencies.Skip(20))}");
        Console.WriteLine($"- Graph assignments created: {stub.Created}");
    }

    private static async Task ThrottledBurstAsync(int count)
    {
        await using var stub = await GraphStub.GraphStub.StartAsync();
        stub.ThrottleShare = 0.2;
        stub.ThrottleRetryAfterSeconds = 1;
        await using var host = await StartAsync(stub);
        var role = DemoOrganisation.ExchangeAdministrator;
        var start = DateTimeOffset.UtcNow;
        var lifetime = TimeSpan.FromSeconds(20);
        await using (var db = await host.DbAsync())
        {
            for (var i = 0; i < count; i++)
            {
                var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Burst {i}", $"burst-{i}@contoso.test");
                var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, start.AddDays(-1), null, Guid.Empty, start);
                var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, principal.Id, lifetime, new("Graph burst", null, null), start, null);
                var activation = new RoleActivation(Guid.NewGuid(), request, start);
                db.AddRange(principal, eligibility, request, activation, new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, activation.Id, start));
            }

            await db.SaveChangesAsync();
        }

        var watch = Stopwatch.StartNew();
        await StartWorkersAsync(host);
        TimeSpan? allConfirmed = null;
        while (watch.Elapsed < TimeSpan.FromMinutes(3))
        {
            await using var db = await host.DbAsync();
            if (allConfirmed is null && await db.Activations.CountAsync(a => a.ConfirmedAt != null) == count)
            {
                allConfirmed = watch.Elapsed;
            }

            if (await db.Activations.CountAsync(a => a.RemovedFromDirectoryAt == null) == 0)
            {
                break;
            }

            await Task.Delay(100);
        }

        await StopWorkersAsync(host);
        await using var read = await host.DbAsync();
        var rows = await read.Activations.AsNoTracking().Select(a => new { a.Status, a.ConfirmedAt, a.NotAfter, a.RemovedFromDirectoryAt }).ToListAsync();
        var removedLate = rows.Where(r => r.RemovedFromDirectoryAt is not null).Select(r => (r.RemovedFromDirectoryAt!.Value - r.NotAfter).TotalMilliseconds).ToList();
        Console.WriteLine();
        Console.WriteLine($"## Graph: {count} grants of {lifetime.TotalSeconds:0} s with {stub.ThrottleShare:P0} of Graph's write answers 429 (Retry-After {stub.ThrottleRetryAfterSeconds} s)");
        Console.WriteLine($"- confirmed: {rows.Count(r => r.ConfirmedAt is not null)} of {count}, all within {allConfirmed?.TotalSeconds:0.0} s; failed: {rows.Count(r => r.Status == ActivationStatus.Failed)}");
        Console.WriteLine($"- answered 429: {stub.Throttled}; assignments Graph created: {stub.Created} (one per grant: none duplicated)");
        Console.WriteLine($"- expired: {rows.Count(r => r.Status == ActivationStatus.Expired)}; removed from Graph: {removedLate.Count}; still held in Graph after the run: {stub.RoleAssignments().Count}");
        Console.WriteLine($"- removed from Graph − end: {Stats.Summary(removedLate)}");
    }

    private static Task<BenchHost> StartAsync(GraphStub.GraphStub stub) =>
        BenchHost.StartAsync(jobs: true, services => services.AddSingleton<IDirectoryGateway>(sp =>
        {
            var options = new GraphDirectoryOptions { BaseUrl = stub.BaseUrl, ArmUrl = stub.ArmUrl, Parallelism = 8 };
            return new GraphDirectoryGateway(GraphClients.Create(options), new ArmRoleWriter(options), Options.Create(options),
                sp.GetRequiredService<IDbContextFactory<PimDbContext>>(), sp.GetRequiredService<ILogger<GraphDirectoryGateway>>());
        }));

    private static async Task StartWorkersAsync(BenchHost host)
    {
        foreach (var worker in host.Services.GetServices<IHostedService>())
        {
            await worker.StartAsync(CancellationToken.None);
        }
    }

    private static async Task StopWorkersAsync(BenchHost host)
    {
        foreach (var worker in host.Services.GetServices<IHostedService>())
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }
}
