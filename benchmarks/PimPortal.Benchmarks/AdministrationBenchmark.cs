using System.Diagnostics;
using System.Text.RegularExpressions;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Dashboard;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// The administrators' pages and the alert evaluation at the size of a large tenant on SQLite: <c>eligibilities</c>
/// eligibilities over the demo's roles, a tenth of them activated in the last 30 days. Measures the assignments list
/// (first page, unfiltered and filtered by holder; the query and the page served over HTTP), the dashboard, and one
/// alert evaluation (first: raising; second: steady).
/// </summary>
internal static partial class AdministrationBenchmark
{
    public static async Task RunAsync(int eligibilities)
    {
        await using var server = new BenchWebServer();
        var seedWatch = Stopwatch.StartNew();
        await SeedAsync(server, eligibilities);
        seedWatch.Stop();
        using var client = await server.SignedInClientAsync(DemoOrganisation.Erin.Email);
        var erin = DemoOrganisation.Erin.Id;

        var list = await Stats.TimeAsync(() => SendAsync(server, erin, new ListAssignments(AssignmentKind.Eligible)), page => page.Rows.Count == 50);
        var filtered = await Stats.TimeAsync(() => SendAsync(server, erin, new ListAssignments(AssignmentKind.Eligible, DemoOrganisation.GlobalAdministrator.Id, "user 12")), page => page.Rows.Count > 0);
        var dashboard = await Stats.TimeAsync(() => SendAsync(server, erin, new GetDashboard(30)), view => view.Eligible >= eligibilities);

        var http = new List<double>();
        var rows = 0;
        for (var i = 0; i < 130; i++)
        {
            var watch = Stopwatch.StartNew();
            var html = await client.GetStringAsync("/assignments");
            watch.Stop();
            if (i >= 30)
            {
                http.Add(watch.Elapsed.TotalMilliseconds);
            }

            rows = Row().Count(html);
        }

        var evaluator = server.Services.GetRequiredService<AlertEvaluator>();
        var first = Stopwatch.StartNew();
        var open = await evaluator.EvaluateAsync(CancellationToken.None);
        first.Stop();
        var second = Stopwatch.StartNew();
        await evaluator.EvaluateAsync(CancellationToken.None);
        second.Stop();

        Console.WriteLine();
        Console.WriteLine($"## Administration with {eligibilities:N0} eligibilities (SQLite; seeded in {seedWatch.Elapsed.TotalSeconds:0.0} s)");
        Console.WriteLine($"- assignments, first page (ListAssignments, 50 rows of {eligibilities:N0}): {Stats.Summary(list)}");
        Console.WriteLine($"- assignments filtered by role and holder name: {Stats.Summary(filtered)}");
        Console.WriteLine($"- assignments page served, GET /assignments over HTTP ({rows} rows rendered): {Stats.Summary(http)}");
        Console.WriteLine($"- dashboard (GetDashboard, 30 days): {Stats.Summary(dashboard)}");
        Console.WriteLine($"- alert evaluation: first pass {first.Elapsed.TotalMilliseconds:0} ms ({open} alerts raised), second pass {second.Elapsed.TotalMilliseconds:0} ms");
    }

    private static async Task<T> SendAsync<T>(BenchWebServer server, Guid who, IQuery<T> query)
    {
        await using var scope = server.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchWebServer.User>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(query);
    }

    /// <summary>
    /// Users eligible for the demo's roles in turn (created over the last year, a third of them not activating), a tenth
    /// with an activation in the last 30 days (ended).
    /// </summary>
    private static async Task SeedAsync(BenchWebServer server, int count)
    {
        var now = DateTimeOffset.UtcNow;
        var roles = DemoOrganisation.Roles;
        const int batch = 5000;
        for (var start = 0; start < count; start += batch)
        {
            await using var db = await server.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = start; i < Math.Min(count, start + batch); i++)
            {
                var role = roles[i % roles.Count];
                var created = now.AddDays(-(i % 365)).AddMinutes(-1);
                var user = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Bench user {i}", $"bench{i}@contoso.test");
                var eligibility = new RoleEligibility(Guid.NewGuid(), user.Id, role.Id, role.Scope, created, i % 7 == 0 ? now.AddDays(10 + (i % 50)) : null, Guid.Empty, created);
                db.AddRange(user, eligibility);
                if (i % 10 == 0)
                {
                    var at = now.AddDays(-(i % 30)).AddHours(-2);
                    var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, user.Id, TimeSpan.FromHours(1),
                        new RequestDetails("Bench", null, null), at, at);
                    var activation = new RoleActivation(Guid.NewGuid(), request, at);
                    activation.ConfirmProvisioned(at);
                    activation.Expire(at.AddHours(1));
                    db.AddRange(request, activation);
                }
            }

            await db.SaveChangesAsync();
        }
    }

    [GeneratedRegex("<tr data-holder=")]
    private static partial Regex Row();
}
