using System.Diagnostics;
using System.Text.RegularExpressions;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// The approver's queue with <c>pending</c> requests waiting: the first page (the query, and the whole page served
/// over HTTP), and decisions one after another — each the whole command (authorization, checks, grant, audit,
/// notification) on SQLite.
/// </summary>
internal static partial class ApprovalBenchmark
{
    public static async Task RunAsync(int pending)
    {
        await using var server = new BenchWebServer();
        var ids = await SeedAsync(server, pending);
        using var client = await server.SignedInClientAsync(DemoOrganisation.Bob.Email);

        var query = new List<double>();
        for (var i = 0; i < 230; i++)
        {
            var watch = Stopwatch.StartNew();
            var page = await SendAsync(server, DemoOrganisation.Bob.Id, new GetApprovalQueue());
            watch.Stop();
            if (i >= 30)
            {
                query.Add(watch.Elapsed.TotalMilliseconds);
            }

            if (page.Items.Count != GetApprovalQueue.DefaultPageSize || page.Next is null)
            {
                throw new InvalidOperationException("The first page is not full.");
            }
        }

        var http = new List<double>();
        var rows = 0;
        for (var i = 0; i < 230; i++)
        {
            var watch = Stopwatch.StartNew();
            var html = await client.GetStringAsync("/approvals");
            watch.Stop();
            if (i >= 30)
            {
                http.Add(watch.Elapsed.TotalMilliseconds);
            }

            rows = Row().Count(html);
        }

        var decisions = new List<double>();
        foreach (var id in ids.Take(1000))
        {
            var watch = Stopwatch.StartNew();
            var result = await SendAsync(server, DemoOrganisation.Bob.Id, new DecideRequest(id, ApprovalVerdict.Approve, "Bench"));
            watch.Stop();
            decisions.Add(watch.Elapsed.TotalMilliseconds);
            if (result.Status != ActivationRequestStatus.Approved || result.ActivationId is null)
            {
                throw new InvalidOperationException($"The decision did not grant: {result.Status}");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"## Approval queue with {pending} pending requests (SQLite)");
        Console.WriteLine($"- first page, query (GetApprovalQueue, {GetApprovalQueue.DefaultPageSize} rows): {Stats.Summary(query)}");
        Console.WriteLine($"- first page served, GET /approvals over HTTP ({rows} rows rendered): {Stats.Summary(http)}");
        Console.WriteLine($"- a decision that grants (DecideRequest, whole command): {Stats.Summary(decisions.Skip(50))}");
    }

    private static async Task<ApprovalQueuePage> SendAsync(BenchWebServer server, Guid who, GetApprovalQueue query)
    {
        await using var scope = server.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchWebServer.User>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(query);
    }

    private static async Task<DecisionResult> SendAsync(BenchWebServer server, Guid who, DecideRequest command)
    {
        await using var scope = server.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchWebServer.User>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>Users each eligible for Global Administrator, each with a pending request; returns the ids, oldest deadline first.</summary>
    private static async Task<List<Guid>> SeedAsync(BenchWebServer server, int count)
    {
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var role = DemoOrganisation.GlobalAdministrator;
        var ids = new List<Guid>(count);
        for (var i = 0; i < count; i++)
        {
            var user = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Requester {i:0000}", $"requester{i}@contoso.test");
            var eligibility = new RoleEligibility(Guid.NewGuid(), user.Id, role.Id, role.Scope, now.AddDays(-1), null, Guid.Empty, now.AddDays(-1));
            var asked = now.AddSeconds(-count + i);
            var request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, user.Id, TimeSpan.FromHours(1),
                new RequestDetails($"Change {i}", $"CHG{i}", "ServiceNow"), asked, asked, 1, TimeSpan.FromHours(24));
            db.AddRange(user, eligibility, request);
            ids.Add(request.Id);
        }

        await db.SaveChangesAsync();
        return ids;
    }

    [GeneratedRegex("<tr data-request=")]
    private static partial Regex Row();
}
