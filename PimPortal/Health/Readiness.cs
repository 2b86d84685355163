using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PimPortal.Core;
using PimPortal.Core.Directory;
using PimPortal.Core.Jobs;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;

namespace PimPortal.Health;

/// <summary>
/// <c>/healthz</c> is the liveness probe: the process answers, nothing else is asked (a database outage must not get
/// every instance restarted). <c>/healthz/ready</c> is the readiness probe: the database reachable and migrated, the
/// key ring readable, the directory answering (Entra mode), the mail server when one is configured, and this
/// instance's workers passing. Its answer names each check and what failed — never a secret, a connection string or
/// an exception's text that could hold one.
/// </summary>
internal static class Readiness
{
    public const string Tag = "ready";

    public static IServiceCollection AddPortalHealthChecks(this IServiceCollection services, PimOptions options)
    {
        var checks = services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("database", tags: [Tag])
            .AddCheck<KeyRingCheck>("key-ring", tags: [Tag])
            .AddCheck<WorkersCheck>("workers", tags: [Tag]);
        if (options.Mode == PimMode.Entra)
        {
            checks.AddCheck<DirectoryCheck>("directory", tags: [Tag]);
        }

        if (options.Smtp.IsConfigured)
        {
            // One instance, so its last answer is reused for a minute rather than a connection every probe.
            services.AddSingleton<SmtpCheck>();
            checks.AddCheck<SmtpCheck>("smtp", tags: [Tag]);
        }

        return services;
    }

    public static void MapPortalHealthChecks(this WebApplication app)
    {
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(Tag),
            ResponseWriter = WriteAsync,
        }).AllowAnonymous();
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                ms = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
            }),
        }));
    }

    /// <summary>What a failure says: the kind of error, never its message (a driver's may carry a host, a user, a key).</summary>
    internal static string Kind(Exception e) => e switch
    {
        Npgsql.PostgresException pg => $"{nameof(Npgsql.PostgresException)} {pg.SqlState}",
        Microsoft.Data.Sqlite.SqliteException sqlite => $"{nameof(Microsoft.Data.Sqlite.SqliteException)} {sqlite.SqliteErrorCode}",
        Microsoft.Data.SqlClient.SqlException sql => $"{nameof(Microsoft.Data.SqlClient.SqlException)} {sql.Number}",
        TimeoutException or OperationCanceledException => "timed out",
        _ => e.GetType().Name,
    };
}

/// <summary>The database answers and every migration of this build is applied.</summary>
internal sealed class DatabaseCheck(IDbContextFactory<PimDbContext> dbFactory, IOptions<PimOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            return pending.Count == 0
                ? HealthCheckResult.Healthy($"{options.Value.Database.Provider}, migrated")
                : HealthCheckResult.Unhealthy(DatabaseInitializer.NotMigrated(pending, options.Value.Database.Provider));
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"The {options.Value.Database.Provider} database does not answer ({Readiness.Kind(e)}).");
        }
    }
}

/// <summary>The shared Data Protection key ring reads, every key decrypts, and a value round-trips.</summary>
internal sealed class KeyRingCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult(KeyRing.Check(services) is { } problem ? HealthCheckResult.Unhealthy(problem) : HealthCheckResult.Healthy("readable"));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"The Data Protection key ring cannot be read from the database ({Readiness.Kind(e)})."));
        }
    }
}

/// <summary>Microsoft Graph gives a token and answers the cheapest read (Entra mode).</summary>
internal sealed class DirectoryCheck(IDirectoryGateway directory) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await directory.CheckAsync(cancellationToken);
            return HealthCheckResult.Healthy("Graph answers");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var status = e is Microsoft.Kiota.Abstractions.ApiException api ? $"HTTP {api.ResponseStatusCode}" : Readiness.Kind(e);
            return HealthCheckResult.Unhealthy($"Microsoft Graph does not answer ({status}): grants cannot be written or read back.");
        }
    }
}

/// <summary>The configured SMTP server takes a connection and the sign-in; looked at once a minute at most.</summary>
internal sealed class SmtpCheck(IMailSender mail, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan Reuse = TimeSpan.FromMinutes(1);
    private readonly SemaphoreSlim gate = new(1, 1);
    private (DateTimeOffset At, HealthCheckResult Result)? last;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (last is { } seen && time.GetUtcNow() - seen.At < Reuse)
            {
                return seen.Result;
            }

            HealthCheckResult result;
            try
            {
                await mail.CheckAsync(cancellationToken);
                result = HealthCheckResult.Healthy("the mail server answers");
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Mail is not a reason to take the instance out of the load balancer: notifications wait in the outbox.
                result = HealthCheckResult.Degraded($"The mail server does not answer ({Readiness.Kind(e)}); notifications wait and are retried.");
            }

            last = (time.GetUtcNow(), result);
            return result;
        }
        finally
        {
            gate.Release();
        }
    }
}

/// <summary>Every worker of this instance passed within three of its intervals.</summary>
internal sealed class WorkersCheck(WorkerHeartbeats heartbeats) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stuck = heartbeats.Stuck();
        var watched = heartbeats.Count;
        return Task.FromResult(stuck.Count == 0
            ? HealthCheckResult.Healthy(watched == 0 ? "no workers in this instance" : $"{watched} workers passing")
            : HealthCheckResult.Unhealthy(string.Join("; ", stuck)));
    }
}
