using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.E2E.Infrastructure;

namespace PimPortal.Benchmarks;

/// <summary>
/// Two portal processes on one PostgreSQL database (issue 15): 1,000 grants — made through the lifecycle layer and
/// provisioned by both instances' outbox workers — end within one second; both instances' expiry and outbox workers
/// compete for them. Per grant: removed from the directory − its end, and how many times it was removed. The
/// processes, the database and the arrangement are the E2E tests' own (linked sources). Needs PIM_TEST_POSTGRES
/// (<c>./build.sh bench instances</c> starts a throwaway server).
/// </summary>
internal static class InstancesBenchmark
{
    public static async Task RunAsync(int count)
    {
        await using var database = await SharedDatabase.CreateAsync(DatabaseProvider.PostgreSql);
        await using var a = await PortalProcess.StartAsync(database.Settings(("Pim:Jobs:InstanceName", "bench-a")));
        await using var b = await PortalProcess.StartAsync(database.Settings(("Pim:Jobs:InstanceName", "bench-b")));

        // Far enough ahead that both outboxes have provisioned them all before the first ends.
        var firstEnd = DateTimeOffset.UtcNow.AddSeconds(15);
        var activations = await database.AddGrantsAsync(count, firstEnd, TimeSpan.FromSeconds(1));
        var provisioned = await WaitAsync(database, db => db.Activations.CountAsync(x => activations.Contains(x.Id) && x.Status == ActivationStatus.Active), count, firstEnd);
        await WaitAsync(database, db => db.Activations.CountAsync(x => activations.Contains(x.Id) && x.RemovedFromDirectoryAt != null), count, firstEnd.AddMinutes(2));

        var rows = await database.DbAsync(db => db.Activations.AsNoTracking().Where(x => activations.Contains(x.Id)).Select(x => new { x.Id, x.NotAfter, x.EndedAt, x.RemovedFromDirectoryAt }).ToListAsync());
        var ids = activations.Select(x => x.ToString()).ToList();
        var removals = await database.DbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.ActivationRemovedFromDirectory && ids.Contains(e.TargetId))
            .GroupBy(e => e.TargetId).Select(g => g.Count()).ToListAsync());
        var lag = rows.Select(r => (r.RemovedFromDirectoryAt!.Value - r.NotAfter).TotalMilliseconds).Order().ToList();
        var endLag = rows.Select(r => (r.EndedAt!.Value - r.NotAfter).TotalMilliseconds).Order().ToList();

        Console.WriteLine($"## Two instances on PostgreSQL (issue 15): {count:N0} grants ending within one second, both instances' workers competing");
        Console.WriteLine($"- provisioned before the first end: {provisioned:N0} of {count:N0}");
        Console.WriteLine($"- ended − end: {Stats.Summary(endLag)}");
        Console.WriteLine($"- removed from the directory − end: {Stats.Summary(lag)}");
        if (Environment.GetEnvironmentVariable("BENCH_JOBS") == "1")
        {
            // Each instance's own log (run with Logging__LogLevel__PimPortal=Debug to see every pass).
            Console.WriteLine($"### instance a\n{a.Output}\n### instance b\n{b.Output}");
        }

        Console.WriteLine($"- removal events per grant: {removals.Count:N0} grants removed, {removals.Count(c => c == 1):N0} exactly once, {removals.Count(c => c > 1):N0} more than once");
    }

    /// <summary>Waits until <paramref name="count"/> says <paramref name="target"/> (or <paramref name="until"/> passes); returns the last count.</summary>
    private static async Task<int> WaitAsync(SharedDatabase database, Func<Core.Persistence.PimDbContext, Task<int>> count, int target, DateTimeOffset until)
    {
        var seen = 0;
        while ((seen = await database.DbAsync(count)) < target && DateTimeOffset.UtcNow < until)
        {
            await Task.Delay(100);
        }

        return seen;
    }
}
