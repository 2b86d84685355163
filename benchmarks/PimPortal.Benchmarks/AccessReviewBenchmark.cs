using System.Diagnostics;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// Access reviews at the size of a large tenant on SQLite: <c>eligibilities</c> users eligible for the demo's roles in
/// turn (a tenth activated in the last 30 days), each managed by one of ten managers. Measures opening an instance
/// over all of them (the worker's INSERT … SELECT, five definitions in turn), a manager's first page of their 10,000
/// lines (and the undecided-only page, and My reviews), deciding a page of 50 lines at once, closing an instance
/// (the default decision for every line left), and applying 10,000 denials.
/// </summary>
internal static class AccessReviewBenchmark
{
    private const int Managers = 10;

    public static async Task RunAsync(int eligibilities)
    {
        await using var host = await BenchHost.StartAsync();
        var managers = Enumerable.Range(0, Managers).Select(i => Guid.NewGuid()).ToList();
        var seedWatch = Stopwatch.StartNew();
        await SeedAsync(host, eligibilities, managers);
        seedWatch.Stop();
        var processor = host.Services.GetRequiredService<AccessReviewProcessor>();

        // Opening: five definitions over every role, each opened by the worker's pass (one instance each).
        var opens = new List<double>();
        var instances = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var definition = await SendAsync(host, DemoOrganisation.Carol.Id, new CreateAccessReview(Review($"Bench review {i}", DateTimeOffset.UtcNow.AddDays(1))));
            await using (var db = await host.DbAsync())
            {
                // Due now: the definition's start moved to now, as the clock would.
                await db.Database.ExecuteSqlRawAsync("UPDATE \"AccessReviewDefinitions\" SET \"Start\" = {0} WHERE \"Id\" = {1}",
                    new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter().ConvertToProvider(DateTimeOffset.UtcNow)!, definition);
            }

            var watch = Stopwatch.StartNew();
            var opened = await processor.OpenDueAsync(CancellationToken.None);
            watch.Stop();
            if (opened != 1)
            {
                throw new InvalidOperationException("The review did not open.");
            }

            opens.Add(watch.Elapsed.TotalMilliseconds);
            await using var read = await host.DbAsync();
            instances.Add(await read.AccessReviewInstances.Where(x => x.DefinitionId == definition).Select(x => x.Id).SingleAsync());
        }

        int lines;
        await using (var db = await host.DbAsync())
        {
            lines = await db.AccessReviewInstances.Where(x => x.Id == instances[0]).Select(x => x.ItemCount).SingleAsync();
        }

        var manager = managers[0];
        var instance = instances[0];
        var firstPage = await Stats.TimeAsync(() => SendAsync(host, manager, new GetMyReviewLines(instance)), page => page.Page.Count == 50 && page.Lines >= eligibilities / Managers);
        var undecided = await Stats.TimeAsync(() => SendAsync(host, manager, new GetMyReviewLines(instance, UndecidedOnly: true)), page => page.Page.Count == 50);
        var myReviews = await Stats.TimeAsync(() => SendAsync(host, manager, new GetMyReviews()), list => list.Count == 5);

        // Deciding: a page of 50 at once, 200 times (10,000 denials), then closing and applying them.
        var decide = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var page = await SendAsync(host, manager, new GetMyReviewLines(instance, UndecidedOnly: true));
            var watch = Stopwatch.StartNew();
            await SendAsync(host, manager, new DecideReviewItems(instance, [.. page.Page.Select(l => new ReviewChoice(l.Id, ReviewDecision.Deny))], "No longer needed"));
            watch.Stop();
            decide.Add(watch.Elapsed.TotalMilliseconds);
        }

        var close = Stopwatch.StartNew();
        await SendAsync(host, DemoOrganisation.Carol.Id, new EndReviewInstance(instance, "Benchmark"));
        close.Stop();
        // Applying: the governance lead asks (the command returns at once), the review worker's pass does the work.
        var ask = Stopwatch.StartNew();
        var queued = await SendAsync(host, DemoOrganisation.Carol.Id, new ApplyReviewResults(instance));
        ask.Stop();
        var apply = Stopwatch.StartNew();
        var applied = await host.Services.GetRequiredService<ReviewResults>().ApplyAsync(instance, CancellationToken.None);
        apply.Stop();
        if (applied.Removed != queued)
        {
            throw new InvalidOperationException($"{queued} denials were asked for, {applied.Removed} removed.");
        }

        Console.WriteLine();
        Console.WriteLine($"## Access reviews with {eligibilities:N0} eligibilities (SQLite; seeded in {seedWatch.Elapsed.TotalSeconds:0.0} s; {lines:N0} lines per instance)");
        Console.WriteLine($"- opening an instance (the worker's pass: instance, lines, audit, reviewer notices): {Stats.Summary(opens)}");
        Console.WriteLine($"- a manager's first page (GetMyReviewLines, 50 of {eligibilities / Managers:N0} lines, with progress): {Stats.Summary(firstPage)}");
        Console.WriteLine($"- the same, undecided lines only: {Stats.Summary(undecided)}");
        Console.WriteLine($"- My reviews (5 open instances, progress of each): {Stats.Summary(myReviews)}");
        Console.WriteLine($"- deciding 50 lines at once (DecideReviewItems, each audited): {Stats.Summary(decide.Skip(20))}");
        Console.WriteLine($"- ending the instance (default decision for {lines - 10_000:N0} lines left): {close.Elapsed.TotalMilliseconds:0} ms");
        Console.WriteLine($"- asking to apply the results (ApplyReviewResults, the governance lead's command): {ask.Elapsed.TotalMilliseconds:0} ms");
        Console.WriteLine($"- applying {applied.Removed:N0} denials in the worker (eligibility removed, audited, {ReviewResults.BatchSize} per transaction): {apply.Elapsed.TotalSeconds:0.00} s, {applied.Removed / apply.Elapsed.TotalSeconds:N0} denials/s");
    }

    private static AccessReviewInput Review(string name, DateTimeOffset start) => new(
        name, null, [.. DemoOrganisation.Roles.Select(r => r.Id)], ReviewAssignments.Eligible, null, 90, ReviewerKind.Manager, [DemoOrganisation.Erin.Id],
        start, ReviewFrequency.Quarterly, 14, ReviewEnd.Never, null, null, false, ReviewDefaultDecision.NoChange, AutoApply: false, Reminders: true);

    private static async Task<T> SendAsync<T>(BenchHost host, Guid who, IQuery<T> query)
    {
        await using var scope = host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(query);
    }

    private static async Task<T> SendAsync<T>(BenchHost host, Guid who, ICommand<T> command)
    {
        await using var scope = host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>The managers, then users eligible for the demo's roles in turn, each with a manager; a tenth activated in the last 30 days.</summary>
    private static async Task SeedAsync(BenchHost host, int count, IReadOnlyList<Guid> managers)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        await using (var db = await host.DbAsync())
        {
            db.AddRange(managers.Select((id, i) => new Principal(id, PrincipalKind.User, $"Bench manager {i}", $"manager{i}@contoso.test")));
            await db.SaveChangesAsync();
        }

        var roles = DemoOrganisation.Roles;
        const int batch = 5000;
        for (var start = 0; start < count; start += batch)
        {
            await using var db = await host.DbAsync();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = start; i < Math.Min(count, start + batch); i++)
            {
                var role = roles[i % roles.Count];
                var created = now.AddDays(-(i % 365));
                var user = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Bench user {i:D6}", $"bench{i}@contoso.test");
                user.SetManager(managers[i % managers.Count]);
                var eligibility = new RoleEligibility(Guid.NewGuid(), user.Id, role.Id, role.Scope, created, null, Guid.Empty, created);
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
}
