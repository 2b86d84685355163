using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Seed;

namespace PimPortal.Core.Persistence;

/// <summary>Brings the database up to date on start: migrations (always for SQLite), then the demo seed when asked.</summary>
public sealed class DatabaseInitializer(IDbContextFactory<PimDbContext> dbFactory, DemoSeeder seeder, IOptions<PimOptions> options)
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var isSqlite = db.Database.IsSqlite();
            if (isSqlite || settings.Database.MigrateOnStart)
            {
                await db.Database.MigrateAsync(cancellationToken);
            }

            if (isSqlite)
            {
                // Write-ahead logging lets readers go on while one writer commits; it is kept in the file.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
        }

        if (settings.SeedsDemo)
        {
            await seeder.SeedIfEmptyAsync(cancellationToken);
        }
    }
}
