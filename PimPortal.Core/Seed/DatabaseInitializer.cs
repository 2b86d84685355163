using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Seed;

/// <summary>Brings the database up to date on start: migrations (always for SQLite), then the demo seed when asked.</summary>
public sealed partial class DatabaseInitializer(
    IDbContextFactory<PimDbContext> dbFactory, DemoSeeder seeder, IOptions<PimOptions> options, ILogger<DatabaseInitializer> logger)
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var watch = Stopwatch.StartNew();
        var applied = 0;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var isSqlite = db.Database.IsSqlite();
            if (isSqlite || settings.Database.MigrateOnStart)
            {
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
                if (pending.Count > 0)
                {
                    await db.Database.MigrateAsync(cancellationToken);
                    applied = pending.Count;
                }
            }

            if (isSqlite)
            {
                // Write-ahead logging lets readers go on while one writer commits; it is kept in the file.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
        }

        var migrated = watch.Elapsed;
        var seeded = settings.SeedsDemo && await seeder.SeedIfEmptyAsync(cancellationToken);
        LogReady(logger, applied, migrated.TotalMilliseconds, seeded, watch.Elapsed.TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready: {Applied} migrations applied in {MigratedMs:0} ms; demo seeded: {Seeded}; {TotalMs:0} ms in all")]
    private static partial void LogReady(ILogger logger, int applied, double migratedMs, bool seeded, double totalMs);
}
