using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>Server-side render of My roles for a user eligible for many roles, over HTTP on Kestrel.</summary>
internal static partial class MyRolesBenchmark
{
    public static async Task RunAsync(int roles)
    {
        await using var server = new BenchWebServer();
        await SeedAsync(server, roles);

        using var client = await server.SignedInClientAsync(DemoOrganisation.Alice.Email);
        for (var i = 0; i < 30; i++)
        {
            await client.GetStringAsync("/");
        }

        var times = new List<double>();
        var rows = 0;
        for (var i = 0; i < 200; i++)
        {
            var watch = Stopwatch.StartNew();
            var html = await client.GetStringAsync("/");
            watch.Stop();
            times.Add(watch.Elapsed.TotalMilliseconds);
            rows = Row().Count(html);
        }

        Console.WriteLine();
        Console.WriteLine($"## My roles with {roles} eligible roles (server-side render, GET / over HTTP, signed in)");
        Console.WriteLine($"- rows rendered: {rows}");
        Console.WriteLine($"- {Stats.Summary(times)}");
    }

    private static async Task SeedAsync(BenchWebServer server, int roles)
    {
        await using var scope = server.Services.CreateAsyncScope();
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow.AddMinutes(-1);
        var existing = await db.Eligibilities.CountAsync(e => e.PrincipalId == DemoOrganisation.Alice.Id);
        for (var i = existing; i < roles; i++)
        {
            var role = new PrivilegedRole(Guid.NewGuid(), RoleKind.AzureResourceRole, $"Reader {i:000}", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                $"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-{i:000}", new RoleSettings(TimeSpan.FromHours(8), i % 2 == 0, true, i % 3 == 0));
            db.PrivilegedRoles.Add(role);
            db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), DemoOrganisation.Alice.Id, role.Id, role.Scope, now, i % 4 == 0 ? now.AddDays(90) : null, Guid.Empty, now));
        }

        await db.SaveChangesAsync();
    }

    [GeneratedRegex("<tr data-role=")]
    private static partial Regex Row();
}
