using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PimPortal.Core;
using PimPortal.Core.Persistence;

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
        services = new ServiceCollection().AddPimDatabase(provider, connectionString).BuildServiceProvider();
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

    public async Task<T> DbAsync<T>(Func<PimDbContext, Task<T>> work)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await work(db);
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
