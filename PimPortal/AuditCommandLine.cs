using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Audit;
using PimPortal.Core.Persistence;

namespace PimPortal;

/// <summary>
/// <c>dotnet run --project PimPortal -- verify-audit [--digest FILE] [--archive FILE]</c>: verifies the audit trail
/// on the configured database (the portal's own configuration: appsettings, environment, <c>--Key=value</c>), against an
/// exported digest when one is given; or, with <c>--archive</c>, verifies a retention archive file with no database.
/// Exit code 0 when intact, 1 when broken, 2 when it could not verify.
/// </summary>
internal static class AuditCommandLine
{
    private const string Usage = """
        Usage: verify-audit [--digest FILE] [--archive FILE] [--ConnectionStrings:Pim=… --Pim:Database:Provider=…]
          (no option)       verify the audit trail in the portal's database against its checkpoints
          --digest FILE     also check the database's checkpoints against a digest exported earlier
          --archive FILE    verify a retention archive file on its own, no database (with --digest: against it too)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        string? digestPath = null;
        string? archivePath = null;
        var configuration = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--digest" when i + 1 < args.Length:
                    digestPath = args[++i];
                    break;
                case "--archive" when i + 1 < args.Length:
                    archivePath = args[++i];
                    break;
                case "--help" or "-h":
                    await output.WriteLineAsync(Usage);
                    return 0;
                case var setting when setting.StartsWith("--", StringComparison.Ordinal) && setting.Contains('=', StringComparison.Ordinal):
                    configuration.Add(setting);
                    break;
                default:
                    await output.WriteLineAsync($"verify-audit: '{args[i]}' is not an option.\n{Usage}");
                    return 2;
            }
        }

        try
        {
            var digest = digestPath is null ? null : await ReadDigestAsync(digestPath);
            var result = archivePath is null
                ? await VerifyDatabaseAsync([.. configuration], digest)
                : await VerifyArchiveAsync(archivePath, digest);
            await output.WriteLineAsync(result.Summary);
            if (archivePath is not null && digestPath is null && result.Intact)
            {
                await output.WriteLineAsync("The archive is consistent with itself; give --digest to check it is the archive the portal recorded.");
            }

            if (result.Break is { } broken)
            {
                await output.WriteLineAsync(FormattableString.Invariant(
                    $"First broken place: {broken.Kind}{(broken.EventId is { } e ? $", event #{e}" : "")}{(broken.Checkpoint is { } c ? $", checkpoint {c}" : "")}."));
            }

            return result.Intact ? 0 : 1;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or DbException or InvalidOperationException)
        {
            await output.WriteLineAsync($"verify-audit could not verify: {ex.Message}");
            return 2;
        }
    }

    private static async Task<AuditDigest> ReadDigestAsync(string path)
    {
        using var reader = new StreamReader(path);
        return await AuditFiles.ReadDigestAsync(reader);
    }

    private static async Task<AuditVerification> VerifyArchiveAsync(string path, AuditDigest? digest)
    {
        string sha256;
        await using (var file = File.OpenRead(path))
        {
            sha256 = Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(file));
        }

        using var reader = new StreamReader(path);
        return await AuditFiles.VerifyArchiveAsync(reader, digest, sha256);
    }

    private static async Task<AuditVerification> VerifyDatabaseAsync(string[] configuration, AuditDigest? digest)
    {
        var builder = Host.CreateApplicationBuilder(configuration);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddPimPortalCore(builder.Configuration);
        using var host = builder.Build();
        await using (var db = await host.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync())
        {
            if (!await db.Database.CanConnectAsync() || (await db.Database.GetAppliedMigrationsAsync()).All(m => !m.EndsWith("_AuditSeals", StringComparison.Ordinal)))
            {
                throw new InvalidOperationException($"There is no portal database with a sealed audit trail at '{db.Database.GetConnectionString()}'; run the portal once, or give --ConnectionStrings:Pim=….");
            }
        }

        var trail = host.Services.GetRequiredService<AuditTrail>();
        var result = await trail.VerifyAsync(CancellationToken.None);
        if (result.Intact && digest is not null && await trail.CompareWithDigestAsync(digest, CancellationToken.None) is { } differs)
        {
            return result with { Intact = false, Break = differs };
        }

        return result;
    }
}
