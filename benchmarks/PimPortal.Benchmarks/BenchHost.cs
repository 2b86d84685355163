using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>PimPortal.Core as the web host wires it, on a fresh SQLite file with the demo seeded.</summary>
internal sealed class BenchHost : IAsyncDisposable
{
    private readonly bool _keep;

    private BenchHost(ServiceProvider services, string file, bool keep)
    {
        Services = services;
        File = file;
        _keep = keep;
    }

    public ServiceProvider Services { get; }

    public string File { get; }

    public string ConnectionString => $"Data Source={File}";

    /// <param name="keepFile">A database file to use and keep (made on the first run, reused after), instead of a fresh one deleted at the end.</param>
    public static async Task<BenchHost> StartAsync(bool jobs = false, Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null, string? keepFile = null)
    {
        var file = keepFile ?? Path.Combine(Path.GetTempPath(), $"pim-bench-{Guid.NewGuid():N}.db");
        var values = new Dictionary<string, string?> { ["ConnectionStrings:Pim"] = $"Data Source={file}" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        configure?.Invoke(services);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning).AddConsole()
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", Environment.GetEnvironmentVariable("BENCH_SQL") is null ? LogLevel.Warning : LogLevel.Information)
            .AddFilter("PimPortal.Core.Jobs", Environment.GetEnvironmentVariable("BENCH_JOBS") is null ? LogLevel.Warning : LogLevel.Debug)
            .AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss.fff "));
        services.AddPimPortalCore(configuration);
        if (Environment.GetEnvironmentVariable("BENCH_TIMING") is not null)
        {
            services.AddPooledDbContextFactory<SqlitePimDbContext>(o => o.UseSqlite($"Data Source={file}").AddInterceptors(Timing.Instance));
        }

        services.AddScoped<BenchUser>();
        services.AddScoped<ICurrentUser>(sp => sp.GetRequiredService<BenchUser>());
        if (jobs)
        {
            services.AddPimPortalJobs();
        }

        var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DatabaseInitializer>().InitializeAsync(CancellationToken.None);
        }

        return new BenchHost(provider, file, keepFile is not null);
    }

    public async Task<PimDbContext> DbAsync() =>
        await Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();

    /// <summary>Activates one eligibility for an hour through the real handler, as its user (no MFA, no approval).</summary>
    public async Task ActivateAsync((Guid User, Guid Eligibility) who)
    {
        await using var scope = Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(who.User);
        await scope.ServiceProvider.GetRequiredService<Mediator.ISender>().Send(new Core.Features.Activation.ActivateRoles(
            [new Core.Features.Activation.ActivationItem(who.Eligibility, TimeSpan.FromHours(1))], "Benchmark", null, null, null));
    }

    /// <summary>Adds <paramref name="count"/> users, each eligible for <paramref name="role"/>; returns (user, eligibility) ids.</summary>
    public async Task<List<(Guid User, Guid Eligibility)>> AddEligibleUsersAsync(int count, DemoRole role)
    {
        var now = DateTimeOffset.UtcNow.AddMinutes(-1);
        var result = new List<(Guid, Guid)>(count);
        await using var db = await DbAsync();
        for (var i = 0; i < count; i++)
        {
            var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Bench user {i}", $"bench-{Guid.NewGuid():N}@contoso.test");
            var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, now, null, Guid.Empty, now);
            db.AddRange(principal, eligibility);
            result.Add((principal.Id, eligibility.Id));
        }

        await db.SaveChangesAsync();
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_keep)
        {
            return;
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            System.IO.File.Delete(File + suffix);
        }
    }
}

/// <summary>The signed-in user of one scope.</summary>
internal sealed class BenchUser : ICurrentUser
{
    public ClaimsPrincipal User { get; set; } = new(new ClaimsIdentity());

    public ClientInfo Client { get; } = new("127.0.0.1", "PimPortal.Benchmarks");

    public Task<ClaimsPrincipal> GetUserAsync() => Task.FromResult(User);

    public void SignIn(Guid principalId) =>
        User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, principalId.ToString())], "Bench"));
}

internal static class Stats
{
    /// <summary>Runs <paramref name="run"/> 130 times, checking each result; the times of the last 100 (the first 30 warm up), in ms.</summary>
    public static async Task<List<double>> TimeAsync<T>(Func<Task<T>> run, Func<T, bool> check)
    {
        var times = new List<double>();
        for (var i = 0; i < 130; i++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var result = await run();
            watch.Stop();
            if (!check(result))
            {
                throw new InvalidOperationException("The result is not what was seeded.");
            }

            if (i >= 30)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        return times;
    }

    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    public static string Summary(IEnumerable<double> values, string unit = "ms")
    {
        var sorted = values.Order().ToList();
        return $"p50 {Percentile(sorted, 50):0.0} {unit}, p95 {Percentile(sorted, 95):0.0} {unit}, p99 {Percentile(sorted, 99):0.0} {unit}, max {sorted[^1]:0.0} {unit} (n={sorted.Count})";
    }
}
