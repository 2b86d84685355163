using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.E2E.Infrastructure;

/// <summary>
/// A database several portal processes share (a fresh PostgreSQL database on the test command's throwaway server, or
/// a fresh SQLite file), the key ring certificate they share, the settings that point a portal at both, and a
/// context for the test to read and arrange what the portals left there. Dropped on dispose.
/// </summary>
public sealed class SharedDatabase : IAsyncDisposable
{
    private readonly Func<ValueTask> drop;
    private readonly ServiceProvider services;

    private SharedDatabase(DatabaseProvider provider, string connectionString, string certificate, Func<ValueTask> drop)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Certificate = certificate;
        this.drop = drop;
        // Core on the shared database, workers off: to arrange what the portals then work on, and to read what they left.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pim"] = connectionString,
            ["Pim:Database:Provider"] = provider.ToString(),
        }).Build();
        services = new ServiceCollection().AddLogging().AddPimPortalCore(configuration).BuildServiceProvider();
    }

    public DatabaseProvider Provider { get; }

    public string ConnectionString { get; }

    /// <summary>The PKCS#12 file every instance encrypts the key ring with.</summary>
    public string Certificate { get; }

    public static async Task<SharedDatabase> CreateAsync(DatabaseProvider provider)
    {
        var certificate = CreateCertificate();
        if (provider == DatabaseProvider.Sqlite)
        {
            var file = Path.Combine(Path.GetTempPath(), $"pim-shared-{Guid.NewGuid():N}.db");
            return new SharedDatabase(provider, $"Data Source={file}", certificate, () =>
            {
                SqliteConnection.ClearAllPools();
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                {
                    File.Delete(file + suffix);
                }

                File.Delete(certificate);
                return ValueTask.CompletedTask;
            });
        }

        var server = Environment.GetEnvironmentVariable("PIM_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("These tests need PostgreSQL: run ./build.sh test, which starts a throwaway one, or set PIM_TEST_POSTGRES.");
        var name = $"pim_shared_{Guid.NewGuid():N}";
        await ExecuteAsync(server, $"CREATE DATABASE \"{name}\"");
        var connectionString = $"{server};Database={name}";
        return new SharedDatabase(provider, connectionString, certificate, async () =>
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                NpgsqlConnection.ClearPool(connection);
            }

            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            File.Delete(certificate);
        });
    }

    /// <summary>The settings of a portal instance on this database (migrating it, seeding the demo into it when empty), workers on.</summary>
    public Dictionary<string, string> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Pim"] = ConnectionString,
            ["Pim:Database:Provider"] = Provider.ToString(),
            ["Pim:Database:MigrateOnStart"] = "true",
            ["Pim:Demo:Seed"] = "true",
            ["Pim:DataProtection:CertificatePath"] = Certificate,
            ["Pim:DataProtection:CertificatePassword"] = "shared-ring",
            ["Pim:Jobs:ExpiryMaxIdle"] = "00:00:01",
            ["Pim:Jobs:OutboxPollInterval"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    public IServiceProvider Services => services;

    public async Task<T> DbAsync<T>(Func<PimDbContext, Task<T>> work)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await work(db);
    }

    /// <summary>
    /// <paramref name="count"/> users, each with an activation of Exchange Administrator granted through the lifecycle
    /// layer (the request, the grant, its outbox message and audit events, as the portal writes them), not yet in the
    /// directory, ending one after another from <paramref name="firstEnd"/> over <paramref name="spread"/>.
    /// </summary>
    public async Task<List<Guid>> AddGrantsAsync(int count, DateTimeOffset firstEnd, TimeSpan spread)
    {
        var now = DateTimeOffset.UtcNow;
        var role = DemoOrganisation.ExchangeAdministrator;
        await using var db = await services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var work = LifecycleContext.System(db, now);
        var activations = new List<Guid>(count);
        foreach (var (principal, eligibility) in EligibleUsers(db, count, role, now))
        {
            var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, principal.Id, TimeSpan.FromHours(1),
                new RequestDetails("Load", null, null), now, null);
            db.ActivationRequests.Add(request);
            var end = firstEnd + (spread * activations.Count / count);
            activations.Add((await services.GetRequiredService<Grants>().GrantAsync(work, request, principal.DisplayName, role.DisplayName, "policy", end, CancellationToken.None)).Id);
        }

        await db.SaveChangesAsync();
        return activations;
    }

    /// <summary><paramref name="count"/> users, each with a request for Global Administrator waiting for approval.</summary>
    public async Task<List<Guid>> AddPendingRequestsAsync(int count)
    {
        var now = DateTimeOffset.UtcNow;
        await using var db = await services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var requests = EligibleUsers(db, count, DemoOrganisation.GlobalAdministrator, now).Select(user => ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate,
            user.Eligibility, user.Principal.Id, TimeSpan.FromHours(1), new RequestDetails("Waiting", null, null), now, now, 1, TimeSpan.FromHours(24))).ToList();
        db.ActivationRequests.AddRange(requests);
        await db.SaveChangesAsync();
        return [.. requests.Select(r => r.Id)];
    }

    private static IEnumerable<(Principal Principal, RoleEligibility Eligibility)> EligibleUsers(PimDbContext db, int count, DemoRole role, DateTimeOffset now)
    {
        for (var i = 0; i < count; i++)
        {
            var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Load user {i}", $"load-{Guid.NewGuid():N}@contoso.test");
            var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, now.AddMinutes(-1), null, Guid.Empty, now.AddMinutes(-1));
            db.AddRange(principal, eligibility);
            yield return (principal, eligibility);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await services.DisposeAsync();
        await drop();
    }

    private static string CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=PimPortal shared key ring", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Path.GetTempPath(), $"pim-ring-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "shared-ring"));
        return path;
    }

    private static async Task ExecuteAsync(string server, string sql)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
