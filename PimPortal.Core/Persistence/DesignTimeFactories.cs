using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace PimPortal.Core.Persistence;

// Used only by `dotnet ef migrations add`: each provider's context with a placeholder connection (never opened).
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePimDbContext>
{
    public SqlitePimDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlitePimDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPimDbContext>
{
    public PostgresPimDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresPimDbContext>().UseNpgsql("Host=localhost;Database=pimportal").Options);
}

internal sealed class SqlServerDesignTimeFactory : IDesignTimeDbContextFactory<SqlServerPimDbContext>
{
    public SqlServerPimDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlServerPimDbContext>().UseSqlServer("Server=localhost;Database=pimportal;Trusted_Connection=True;TrustServerCertificate=True").Options);
}
