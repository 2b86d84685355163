using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Seed;

/// <summary>
/// Brings the database up to date on start: migrations (always for SQLite), then the demo seed when asked, then the
/// data migration of secrets at rest (authenticator keys left in clear by an earlier version are encrypted).
/// </summary>
public sealed partial class DatabaseInitializer(
    IDbContextFactory<PimDbContext> dbFactory, DemoSeeder seeder, Security.AuthenticatorKeys authenticatorKeys, IOptions<PimOptions> options, ILogger<DatabaseInitializer> logger)
{
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var watch = Stopwatch.StartNew();
        var applied = 0;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var isSqlite = db.Database.IsSqlite();
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0 && !(isSqlite || settings.Database.MigrateOnStart))
            {
                // Serving on an older schema would fail at the first page, or half-write; an operator's step is missing.
                throw new StartupException(NotMigrated(pending, settings.Database.Provider));
            }

            if (pending.Count > 0)
            {
                await db.Database.MigrateAsync(cancellationToken);
                applied = pending.Count;
            }

            if (isSqlite)
            {
                // Write-ahead logging lets readers go on while one writer commits; it is kept in the file.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
        }

        var migrated = watch.Elapsed;
        var seeded = settings.SeedsDemo && await seeder.SeedIfEmptyAsync(cancellationToken);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await authenticatorKeys.ProtectStoredAsync(db, cancellationToken) is > 0 and var encrypted)
            {
                LogKeysEncrypted(logger, encrypted);
            }
        }

        LogReady(logger, applied, migrated.TotalMilliseconds, seeded, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>What to do about a database the portal may not migrate itself (also the readiness probe's answer).</summary>
    public static string NotMigrated(IReadOnlyList<string> pending, DatabaseProvider provider)
    {
        ArgumentNullException.ThrowIfNull(pending);
        return $"The {provider} database is not migrated: {pending.Count} migration{(pending.Count == 1 ? "" : "s")} to apply (the latest {pending[^1]}). " +
            "Apply them (dotnet ef database update, or the idempotent script: docs/operations.md) or set Pim:Database:MigrateOnStart=true.";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} authenticator keys were stored in clear: now encrypted with the Data Protection key ring")]
    private static partial void LogKeysEncrypted(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database ready: {Applied} migrations applied in {MigratedMs:0} ms; demo seeded: {Seeded}; {TotalMs:0} ms in all")]
    private static partial void LogReady(ILogger logger, int applied, double migratedMs, bool seeded, double totalMs);
}
