using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using PimPortal.Core;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>The real engines the handler suite runs on.</summary>
public enum DatabaseKind
{
    Sqlite,
    PostgreSql,

    /// <summary>Only where a server is given (PIM_TEST_SQLSERVER, set in azure-pipelines.yml): no engine installs here.</summary>
    SqlServer,
}

/// <summary>A fresh, migrated, empty database of one engine, dropped on dispose.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    /// <summary>
    /// The Data Protection key ring of this test run: the templates' authenticator keys are encrypted with it, and every
    /// TestApp reads them with it (the web hosts keep their own, beside their database file).
    /// </summary>
    public static readonly DirectoryInfo KeyRingDirectory = CreateKeyRingDirectory();

    public static void AddTestKeyRing(IServiceCollection services) =>
        services.AddDataProtection().SetApplicationName(Core.Security.KeyRing.ApplicationName).PersistKeysToFileSystem(KeyRingDirectory);

    private static DirectoryInfo CreateKeyRingDirectory()
    {
        var directory = System.IO.Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"pim-test-keys-{Guid.NewGuid():N}"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => directory.Delete(recursive: true);
        return directory;
    }

    // One migrated template per engine and test run; each test gets a copy (a file copy, or CREATE DATABASE … TEMPLATE).
    private static readonly Lazy<Task<string>> SqliteTemplate = new(async () =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"pim-template-{Guid.NewGuid():N}.db");
        await MigrateAsync(DatabaseProvider.Sqlite, $"Data Source={path};Pooling=False");
        return path;
    });

    private static readonly Lazy<Task<string>> PostgresTemplate = new(async () =>
    {
        var name = $"pim_template_{Guid.NewGuid():N}";
        await ExecuteAsync(PostgresServer, $"CREATE DATABASE \"{name}\"");
        await MigrateAsync(DatabaseProvider.PostgreSql, $"{PostgresServer};Database={name};Pooling=False");
        return name;
    });

    private readonly Func<ValueTask> _drop;

    private TestDatabase(DatabaseKind kind, string connectionString, Func<ValueTask> drop)
    {
        Kind = kind;
        ConnectionString = connectionString;
        _drop = drop;
    }

    public DatabaseKind Kind { get; }

    public string ConnectionString { get; }

    public DatabaseProvider Provider => Kind switch
    {
        DatabaseKind.Sqlite => DatabaseProvider.Sqlite,
        DatabaseKind.PostgreSql => DatabaseProvider.PostgreSql,
        _ => DatabaseProvider.SqlServer,
    };

    /// <summary>The connection string of the throwaway PostgreSQL server the test command starts.</summary>
    public static string PostgresServer =>
        Environment.GetEnvironmentVariable("PIM_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "The PostgreSQL tests need a server: run ./build.sh test, which starts a throwaway one, or set PIM_TEST_POSTGRES " +
                "(e.g. Host=127.0.0.1;Port=55432;Username=postgres).");

    public static async Task<TestDatabase> CreateAsync(DatabaseKind kind)
    {
        return kind switch
        {
            DatabaseKind.Sqlite => await CreateSqliteAsync(),
            DatabaseKind.PostgreSql => await CreatePostgresAsync(),
            DatabaseKind.SqlServer => await CreateSqlServerAsync(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    public ValueTask DisposeAsync() => _drop();

    /// <summary>The same database, for a second instance: disposing it leaves the database to its owner.</summary>
    public TestDatabase Shared() => new(Kind, ConnectionString, () => ValueTask.CompletedTask);

    private static async Task<TestDatabase> CreateSqliteAsync()
    {
        var template = await SqliteTemplate.Value;
        var file = Path.Combine(Path.GetTempPath(), $"pim-test-{Guid.NewGuid():N}.db");
        File.Copy(template, file);
        return new TestDatabase(DatabaseKind.Sqlite, $"Data Source={file}", () =>
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(file + suffix);
            }

            return ValueTask.CompletedTask;
        });
    }

    private static async Task<TestDatabase> CreatePostgresAsync()
    {
        var server = PostgresServer;
        var template = await PostgresTemplate.Value;
        var database = $"pim_test_{Guid.NewGuid():N}";
        await ExecuteAsync(server, $"CREATE DATABASE \"{database}\" TEMPLATE \"{template}\"");
        return Dropped(server, database);
    }

    /// <summary>The PostgreSQL database <paramref name="database"/>, dropped on dispose.</summary>
    private static TestDatabase Dropped(string server, string database)
    {
        var connectionString = $"{server};Database={database}";
        return new TestDatabase(DatabaseKind.PostgreSql, connectionString, async () =>
        {
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                NpgsqlConnection.ClearPool(connection);
            }

            await ExecuteAsync(server, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        });
    }

    /// <summary>A PostgreSQL database with nothing in it — not migrated — dropped on dispose.</summary>
    public static async Task<TestDatabase> CreateEmptyPostgresAsync()
    {
        var server = PostgresServer;
        var database = $"pim_empty_{Guid.NewGuid():N}";
        await ExecuteAsync(server, $"CREATE DATABASE \"{database}\"");
        return Dropped(server, database);
    }

    /// <summary>How many tables the public schema holds (PostgreSQL): whether anything was written.</summary>
    public async Task<long> CountTablesAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>SQL Server has no template databases: each test gets a new database, migrated and seeded.</summary>
    private static async Task<TestDatabase> CreateSqlServerAsync()
    {
        var server = Environment.GetEnvironmentVariable("PIM_TEST_SQLSERVER") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("The SQL Server tests need PIM_TEST_SQLSERVER (azure-pipelines.yml sets it).");
        var database = $"pim_test_{Guid.NewGuid():N}";
        await ExecuteSqlServerAsync(server, $"CREATE DATABASE [{database}]");
        var connectionString = $"{server};Database={database}";
        await MigrateAsync(DatabaseProvider.SqlServer, connectionString);
        return new TestDatabase(DatabaseKind.SqlServer, connectionString, async () =>
        {
            Microsoft.Data.SqlClient.SqlConnection.ClearAllPools();
            await ExecuteSqlServerAsync(server, $"ALTER DATABASE [{database}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{database}]");
        });
    }

    private static async Task ExecuteSqlServerAsync(string server, string sql)
    {
        await using var connection = new Microsoft.Data.SqlClient.SqlConnection($"{server};Database=master");
        await connection.OpenAsync();
        await using var command = new Microsoft.Data.SqlClient.SqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task MigrateAsync(DatabaseProvider provider, string connectionString)
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddPimDatabase(provider, connectionString);
        await using var sp = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);
        var factory = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IDbContextFactory<PimDbContext>>(sp);
        await using var db = await factory.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        if (provider == DatabaseProvider.Sqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }

        // The demo organisation is part of the template (hashing six passwords per test would dominate the run),
        // seeded a day before the tests' clock starts.
        var keys = new Core.Security.AuthenticatorKeys(DataProtectionProvider.Create(KeyRingDirectory, b => b.SetApplicationName(Core.Security.KeyRing.ApplicationName)));
        await new DemoSeeder(factory, new FakeTimeProvider(TestApp.Start.AddDays(-1)), keys).SeedIfEmptyAsync(CancellationToken.None);
    }

    private static async Task ExecuteAsync(string server, string sql)
    {
        await using var connection = new NpgsqlConnection($"{server};Database=postgres;Pooling=False");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
