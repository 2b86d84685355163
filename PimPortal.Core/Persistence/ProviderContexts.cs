using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace PimPortal.Core.Persistence;

/// <summary>The SQLite context (embedded default); its migrations are in Persistence/Migrations/Sqlite.</summary>
public sealed class SqlitePimDbContext(DbContextOptions<SqlitePimDbContext> options) : PimDbContext(options)
{
    internal override string Quote(string identifier) => $"\"{identifier}\"";

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);

        // SQLite has no date type: store instants as sortable integers so range filters and ORDER BY run in SQL.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>The PostgreSQL context; its migrations are in Persistence/Migrations/PostgreSql.</summary>
public sealed class PostgresPimDbContext(DbContextOptions<PostgresPimDbContext> options) : PimDbContext(options)
{
    internal override string Quote(string identifier) => $"\"{identifier}\"";
}

/// <summary>The SQL Server context; its migrations are in Persistence/Migrations/SqlServer.</summary>
public sealed class SqlServerPimDbContext(DbContextOptions<SqlServerPimDbContext> options) : PimDbContext(options)
{
    internal override string Quote(string identifier) => $"[{identifier}]";
}
