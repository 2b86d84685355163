using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PimPortal.Core;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Persistence;

public sealed class MigrationsTests
{
    public static TheoryData<string> Providers() => ["Sqlite", "PostgreSql", "SqlServer"];

    [Theory]
    [MemberData(nameof(Providers))]
    public void EachProvidersMigrations_MatchTheModel(string provider)
    {
        using var db = Context(provider);

        Assert.False(db.Database.HasPendingModelChanges(), $"The {provider} migrations are behind the model: run scripts/add-migration.sh <Name>.");
        Assert.NotEmpty(db.Database.GetMigrations());
    }

    [Fact]
    public void SqlServerScript_HasTheFilteredUniqueIndexes()
    {
        using var db = Context("SqlServer");

        var script = db.GetService<IMigrator>().GenerateScript();

        Assert.Contains("CREATE UNIQUE INDEX [UX_Activations_OneOpenPerRoleAndScope] ON [RoleActivations] ([PrincipalId], [RoleId], [Scope]) WHERE [Status] IN ('Provisioning', 'Active');", script, StringComparison.Ordinal);
        Assert.Contains("CREATE UNIQUE INDEX [UX_Requests_OnePendingPerRoleAndScope]", script, StringComparison.Ordinal);
        Assert.Contains("datetimeoffset", script, StringComparison.Ordinal);
    }

    /// <summary>
    /// The audit trail's guard and full-text triggers are raw SQL: a later migration that rebuilds <c>AuditEvents</c>
    /// (SQLite changes a column by copying the table) would drop them without a word. This says so.
    /// </summary>
    [Fact]
    public async Task Sqlite_KeepsTheAuditTriggers_AfterEveryMigration()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.Sqlite);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name";
        var triggers = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                triggers.Add(reader.GetString(0));
            }
        }

        Assert.Equal(
            ["TR_AuditCheckpoints_NoDELETE", "TR_AuditCheckpoints_NoUPDATE", "TR_AuditEvents_NoDelete", "TR_AuditEvents_NoUpdate", "TR_AuditEvents_Text", "TR_AuditEvents_TextPruned",
             "TR_AuditPrunes_NoDELETE", "TR_AuditPrunes_NoUPDATE"],
            triggers.Where(t => t.StartsWith("TR_Audit", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task PostgreSql_HasTheAuditGuardTriggers()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal", connection);

        var triggers = (string?)await command.ExecuteScalarAsync();

        Assert.Equal("TR_AuditCheckpoints_Guard,TR_AuditEvents_Guard,TR_AuditEvents_NoTruncate,TR_AuditPrunes_Guard", triggers);
    }

    [Fact]
    public async Task PostgreSql_HasThePartialUniqueIndexes()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT indexdef FROM pg_indexes WHERE indexname = 'UX_Activations_OneOpenPerRoleAndScope'", connection);

        var definition = (string?)await command.ExecuteScalarAsync();

        Assert.NotNull(definition);
        Assert.Contains("UNIQUE", definition, StringComparison.Ordinal);
        Assert.Contains("WHERE", definition, StringComparison.Ordinal);
    }

    private static PimDbContext Context(string provider) => provider switch
    {
        "Sqlite" => new SqlitePimDbContext(new DbContextOptionsBuilder<SqlitePimDbContext>().UseSqlite("Data Source=:memory:").Options),
        "PostgreSql" => new PostgresPimDbContext(new DbContextOptionsBuilder<PostgresPimDbContext>().UseNpgsql("Host=localhost").Options),
        _ => new SqlServerPimDbContext(new DbContextOptionsBuilder<SqlServerPimDbContext>().UseSqlServer("Server=localhost;TrustServerCertificate=True").Options),
    };
}

public sealed class DatabaseInitializerTests : IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"pim-init-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task AFreshSqliteFile_IsMigratedAndSeededWithTheDemoOnce()
    {
        await InitializeAsync(seed: null);
        await InitializeAsync(seed: null);

        await using var provider = Services(seed: null);
        await using var db = await provider.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        Assert.Equal(DemoOrganisation.Accounts.Count + 1, await db.Principals.CountAsync());
        Assert.Equal(DemoOrganisation.Accounts.Count, await db.Users.CountAsync());
        Assert.Equal(6, await db.PrivilegedRoles.CountAsync());
        Assert.Equal(8, await db.Eligibilities.CountAsync());
        Assert.Equal(2, await db.Set<Core.Domain.RoleApprover>().CountAsync(a => a.RoleId == DemoOrganisation.PrivilegedRoleAdministrator.Id));
        var standing = await db.DirectoryAssignments.SingleAsync();
        Assert.Equal((DemoOrganisation.BreakGlass.Id, DemoOrganisation.GlobalAdministrator.Id, null), (standing.PrincipalId, standing.RoleId, standing.ExpiresAt));
        Assert.True((await db.Principals.SingleAsync(p => p.Id == DemoOrganisation.BreakGlass.Id)).IsBreakGlass);
        Assert.Equal(DemoOrganisation.Carol.Id, (await db.Principals.SingleAsync(p => p.Id == DemoOrganisation.Alice.Id)).ManagerId);
        Assert.Single(await db.AuditEvents.Where(e => e.Action == Core.Domain.AuditActions.DemoSeeded).ToListAsync());
    }

    [Fact]
    public async Task SeedOff_LeavesTheDatabaseEmpty()
    {
        await InitializeAsync(seed: false);

        await using var provider = Services(seed: false);
        await using var db = await provider.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        Assert.Empty(await db.Principals.ToListAsync());
    }

    [Theory]
    [InlineData(PimMode.Embedded, DatabaseProvider.Sqlite, null, true)]
    [InlineData(PimMode.Entra, DatabaseProvider.Sqlite, null, false)]
    [InlineData(PimMode.Embedded, DatabaseProvider.PostgreSql, null, false)]
    [InlineData(PimMode.Entra, DatabaseProvider.SqlServer, true, true)]
    [InlineData(PimMode.Embedded, DatabaseProvider.Sqlite, false, false)]
    public void DemoSeed_DefaultsToOnOnlyInTheEmbeddedDefault(PimMode mode, DatabaseProvider provider, bool? seed, bool expected)
    {
        var options = new PimOptions { Mode = mode, Database = { Provider = provider }, Demo = { Seed = seed } };

        Assert.Equal(expected, options.SeedsDemo);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(file + suffix);
        }
    }

    private async Task InitializeAsync(bool? seed)
    {
        await using var provider = Services(seed);
        await using var scope = provider.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<DatabaseInitializer>().InitializeAsync(CancellationToken.None);
    }

    private ServiceProvider Services(bool? seed)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pim"] = $"Data Source={file}",
            ["Pim:Demo:Seed"] = seed?.ToString(),
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddPimPortalCore(configuration);
        return services.BuildServiceProvider();
    }
}
