using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Audit;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Audit;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Audit;

#pragma warning disable EF1002, EF1003 // The SQL here is the tampering under test, made of the tests' own constants.

public sealed class AuditIntegrityOnSqlite() : AuditIntegrityTests(DatabaseKind.Sqlite);

public sealed class AuditIntegrityOnPostgreSql() : AuditIntegrityTests(DatabaseKind.PostgreSql);

/// <summary>
/// Tamper evidence: the trail is sealed into hash-chained checkpoints, verification names the first broken place for
/// each kind of tampering, the database refuses changes itself, and a digest catches a rewritten trail.
/// </summary>
public abstract class AuditIntegrityTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;

    private bool IsPostgres => App.Database.Kind == DatabaseKind.PostgreSql;

    private AuditTrail Trail => App.Services.GetRequiredService<AuditTrail>();

    [Fact]
    public async Task SealedTrail_VerifiesIntact_AndTheVerificationIsAudited()
    {
        await MakeHistoryAsync();
        var events = await App.Db(db => db.AuditEvents.CountAsync());

        var sealedCount = await Trail.SealAsync(CancellationToken.None);
        var result = await App.SendAs(Dave, new VerifyAudit());

        Assert.Equal(events, sealedCount);
        Assert.True(result.Intact, result.Summary);
        Assert.Equal((events, 0L), (result.EventsVerified, result.Unsealed));
        Assert.Equal(await App.Db(db => db.AuditCheckpoints.CountAsync()), result.CheckpointsVerified);
        var audit = await App.Db(db => db.AuditEvents.OrderByDescending(e => e.Id).FirstAsync());
        Assert.Equal((AuditActions.AuditVerified, Dave.Id, AuditOutcome.Success), (audit.Action, audit.ActorId, audit.Outcome));

        // The verification's own event is newer than the seal: counted as not sealed yet, not as broken.
        var again = await Trail.VerifyAsync(CancellationToken.None);
        Assert.True(again.Intact);
        Assert.Equal(1, again.Unsealed);
    }

    [Fact]
    public async Task Sealing_TakesWhatIsNew_AndChainsCheckpoints()
    {
        await MakeHistoryAsync();
        await Trail.SealAsync(CancellationToken.None);
        await MoreEventsAsync();
        await Trail.SealAsync(CancellationToken.None);

        var checkpoints = await App.Db(db => db.AuditCheckpoints.OrderBy(c => c.Sequence).ToListAsync());
        Assert.Equal(2, checkpoints.Count);
        Assert.Equal(checkpoints[0].Hash, checkpoints[1].PreviousHash);
        Assert.Equal(checkpoints[0].LastEventId + 1, checkpoints[1].FirstEventId);
        Assert.Equal(0, await App.Db(db => db.AuditEvents.CountAsync(e => e.ChainHash == null)));
        Assert.Equal(0, await Trail.SealAsync(CancellationToken.None));
        Assert.True((await Trail.VerifyAsync(CancellationToken.None)).Intact);
    }

    [Fact]
    public async Task EditedEvent_IsNamed()
    {
        var ids = await SealedHistoryAsync();
        var victim = ids[ids.Count / 2];

        await TamperAsync($"UPDATE \"AuditEvents\" SET \"Details\" = 'nothing to see' WHERE \"Id\" = {victim}");

        var broken = await BrokenAsync();
        Assert.Equal(("edited", victim), (broken.Kind, broken.EventId));
        Assert.Contains($"#{victim}", broken.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovedEvent_IsNamed_ByTheEventAfterIt()
    {
        var ids = await SealedHistoryAsync();
        var victim = ids[3];

        await TamperAsync($"DELETE FROM \"AuditEvents\" WHERE \"Id\" = {victim}");

        var broken = await BrokenAsync();
        Assert.Equal(("removed", ids[4]), (broken.Kind, broken.EventId));
    }

    [Fact]
    public async Task RemovedLastEvent_IsFound()
    {
        var ids = await SealedHistoryAsync();

        await TamperAsync($"DELETE FROM \"AuditEvents\" WHERE \"Id\" = {ids[^1]}");

        Assert.Equal("removed", (await BrokenAsync()).Kind);
    }

    [Fact]
    public async Task InsertedEvent_IsNamed()
    {
        // A gap in the ids (a rolled-back insert leaves one), sealed as it is; then an event forged into the gap.
        await MakeHistoryAsync();
        var last = await App.Db(db => db.AuditEvents.MaxAsync(e => e.Id));
        await InsertEventAsync(last + 10, "activation.granted");
        await Trail.SealAsync(CancellationToken.None);

        await TamperAsync(InsertSql(last + 5, "activation.granted"));

        var broken = await BrokenAsync();
        Assert.Equal(("inserted", last + 5), (broken.Kind, broken.EventId));
    }

    [Fact]
    public async Task SwappedEvents_AreFound()
    {
        var ids = await SealedHistoryAsync();
        var (a, b) = (ids[1], ids[2]);

        // Reordering: the two events' contents change places (the ids are the order).
        await TamperAsync($"""
            UPDATE "AuditEvents" SET "Action" = CASE WHEN "Id" = {a} THEN (SELECT "Action" FROM "AuditEvents" WHERE "Id" = {b}) ELSE (SELECT "Action" FROM "AuditEvents" WHERE "Id" = {a}) END,
                "TargetId" = CASE WHEN "Id" = {a} THEN (SELECT "TargetId" FROM "AuditEvents" WHERE "Id" = {b}) ELSE (SELECT "TargetId" FROM "AuditEvents" WHERE "Id" = {a}) END
            WHERE "Id" IN ({a}, {b})
            """);

        var broken = await BrokenAsync();
        Assert.Equal(a, broken.EventId);
    }

    [Fact]
    public async Task ChangedCheckpoint_IsFound()
    {
        await SealedHistoryAsync();
        await MoreEventsAsync();
        await Trail.SealAsync(CancellationToken.None);

        await TamperAsync("UPDATE \"AuditCheckpoints\" SET \"EventCount\" = \"EventCount\" + 1 WHERE \"Sequence\" = 1");

        var broken = await BrokenAsync();
        Assert.Equal(1, broken.Checkpoint);
    }

    [Fact]
    public async Task RewrittenTrail_PassesItsOwnCheck_ButNotTheDigest()
    {
        var ids = await SealedHistoryAsync();
        var digest = new MemoryStream();
        Assert.Equal(1, await App.SendAs(Dave, new ExportAuditDigest(digest)));
        digest.Position = 0;
        var checkpoints = await AuditFiles.ReadDigestAsync(new StreamReader(digest));

        // Someone with the database in hand edits an event and re-seals everything from scratch.
        await TamperAsync($"""
            UPDATE "AuditEvents" SET "ActorName" = 'Somebody Else' WHERE "Id" = {ids[2]};
            UPDATE "AuditEvents" SET "ChainHash" = NULL;
            DELETE FROM "AuditCheckpoints";
            """);
        await Trail.SealAsync(CancellationToken.None);

        Assert.True((await Trail.VerifyAsync(CancellationToken.None)).Intact);
        var differs = await Trail.CompareWithDigestAsync(checkpoints, CancellationToken.None);
        Assert.Equal(("digest", 1L), (differs?.Kind, differs?.Checkpoint));
    }

    [Fact]
    public async Task TheDatabase_RefusesChangesToTheTrail()
    {
        var ids = await SealedHistoryAsync();
        await MoreEventsAsync();
        var unsealed = await App.Db(db => db.AuditEvents.MaxAsync(e => e.Id));

        string[] refused =
        [
            $"UPDATE \"AuditEvents\" SET \"Details\" = NULL WHERE \"Id\" = {ids[0]}",
            $"UPDATE \"AuditEvents\" SET \"Details\" = NULL WHERE \"Id\" = {unsealed}",
            $"UPDATE \"AuditEvents\" SET \"ChainHash\" = NULL WHERE \"Id\" = {ids[0]}",
            $"DELETE FROM \"AuditEvents\" WHERE \"Id\" = {ids[0]}",
            $"DELETE FROM \"AuditEvents\" WHERE \"Id\" = {unsealed}",
            "UPDATE \"AuditCheckpoints\" SET \"EventCount\" = 0",
            "DELETE FROM \"AuditCheckpoints\"",
        ];
        foreach (var sql in refused)
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => App.Db(db => db.Database.ExecuteSqlRawAsync(sql)));
            Assert.Contains("append-only", ex.Message, StringComparison.Ordinal);
        }

        Assert.True((await Trail.VerifyAsync(CancellationToken.None)).Intact);
        Assert.Equal(1, await Trail.SealAsync(CancellationToken.None) > 0 ? 1 : 0);
    }

    [Fact]
    public async Task TwoInstances_SealingAtOnce_SealEachEventOnce()
    {
        await MakeHistoryAsync();
        var second = App.SecondInstance();
        await using (second)
        {
            var trails = new[] { Trail, second.Services.GetRequiredService<AuditTrail>() };
            for (var round = 0; round < 5; round++)
            {
                await MoreEventsAsync();
                await Task.WhenAll(trails.Select(t => Task.Run(async () =>
                {
                    try
                    {
                        await t.SealAsync(CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is DbUpdateException or Microsoft.Data.Sqlite.SqliteException or InvalidOperationException)
                    {
                        // The instance that lost the race (SQLite: busy; a server: the checkpoint taken) seals next pass.
                    }
                })));
            }

            await Trail.SealAsync(CancellationToken.None);
        }

        var result = await Trail.VerifyAsync(CancellationToken.None);
        Assert.True(result.Intact, result.Summary);
        Assert.Equal(await App.Db(db => db.AuditEvents.CountAsync()), result.EventsVerified);
    }

    [Fact]
    public async Task Retention_ArchivesThenPrunes_AndTheTrailStillVerifies_HereAndAwayFromTheDatabase()
    {
        var archive = System.IO.Directory.CreateTempSubdirectory("pim-archive-").FullName;
        await StartAsync(new Dictionary<string, string?> { ["Pim:Audit:Retention"] = "30.00:00:00", ["Pim:Audit:ArchiveDirectory"] = archive });
        await MakeHistoryAsync();
        await Trail.SealAsync(CancellationToken.None);
        var old = await App.Db(db => db.AuditEvents.OrderBy(e => e.Id).Select(e => e.Id).ToListAsync());
        App.Time.Advance(TimeSpan.FromDays(31));
        await MoreEventsAsync();
        await Trail.SealAsync(CancellationToken.None);
        var digest = new MemoryStream();
        await App.SendAs(Dave, new ExportAuditDigest(digest));
        digest.Position = 0;
        var checkpoints = await AuditFiles.ReadDigestAsync(new StreamReader(digest));

        var pruned = await Trail.PruneAsync(CancellationToken.None);

        Assert.Equal(old.Count, pruned);
        var lastOld = old[^1];
        Assert.False(await App.Db(db => db.AuditEvents.AnyAsync(e => e.Id <= lastOld)));
        var prune = await App.Db(db => db.AuditPrunes.SingleAsync());
        Assert.Equal((0L, old[^1], (long)old.Count), (prune.AfterEventId, prune.ThroughEventId, prune.EventCount));
        var path = Path.Combine(archive, prune.ArchiveFile);
        Assert.Equal(prune.ArchiveSha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path))));
        var recorded = await App.Db(db => db.AuditEvents.SingleAsync(e => e.Action == AuditActions.AuditPruned));
        Assert.Equal((AuditOutcome.Success, (Guid?)null), (recorded.Outcome, recorded.ActorId));
        Assert.Contains(prune.ArchiveFile, recorded.Details!, StringComparison.Ordinal);
        Assert.Equal(0, await Trail.PruneAsync(CancellationToken.None));

        // Verification starts after the pruning, and the pruning's own event is sealed like any other.
        await Trail.SealAsync(CancellationToken.None);
        var result = await Trail.VerifyAsync(CancellationToken.None);
        Assert.True(result.Intact, result.Summary);
        Assert.Equal(old[^1], result.PrunedThrough);
        Assert.Null(await Trail.CompareWithDigestAsync(checkpoints, CancellationToken.None));

        // The archive verifies on its own against a digest taken after the pruning (which records it); an edit, a
        // truncation or an addition in it does not, nor does it against the digest from before.
        var afterDigest = new MemoryStream();
        await App.SendAs(Dave, new ExportAuditDigest(afterDigest));
        afterDigest.Position = 0;
        var recordedDigest = await AuditFiles.ReadDigestAsync(new StreamReader(afterDigest));
        Assert.Null(await Trail.CompareWithDigestAsync(recordedDigest, CancellationToken.None));
        var sha256 = prune.ArchiveSha256;
        using (var reader = new StreamReader(path))
        {
            var offline = await AuditFiles.VerifyArchiveAsync(reader, recordedDigest, sha256);
            Assert.True(offline.Intact, offline.Summary);
            Assert.Equal(old.Count, offline.EventsVerified);
        }

        var lines = await File.ReadAllLinesAsync(path);
        Task<AuditVerification> VerifyLinesAsync(IEnumerable<string> text, AuditDigest? against) =>
            AuditFiles.VerifyArchiveAsync(new StringReader(string.Join('\n', text)), against);
        var edited = (string[])lines.Clone();
        var at = Array.FindIndex(edited, l => l.Contains("\"type\":\"event\"", StringComparison.Ordinal) && l.Contains("Alice Adams", StringComparison.Ordinal));
        edited[at] = edited[at].Replace("Alice Adams", "Somebody Else", StringComparison.Ordinal);
        Assert.Equal("edited", (await VerifyLinesAsync(edited, recordedDigest)).Break?.Kind);
        Assert.False((await VerifyLinesAsync(lines[..^1], recordedDigest)).Intact);
        var appended = lines[^1].Replace($"\"id\":{old[^1]}", $"\"id\":{old[^1] + 1}", StringComparison.Ordinal);
        appended = System.Text.RegularExpressions.Regex.Replace(appended, "\"chainHash\":\"[0-9a-f]+\"", "\"chainHash\":null");
        Assert.Equal("inserted", (await VerifyLinesAsync([.. lines, appended], recordedDigest)).Break?.Kind);
        Assert.Equal("digest", (await VerifyLinesAsync(lines, checkpoints)).Break?.Kind);
        System.IO.Directory.Delete(archive, recursive: true);
    }

    [Fact]
    public async Task AForgedPruning_ThroughTheAppsOwnConnection_IsFound()
    {
        var ids = await SealedHistoryAsync();
        var checkpoint = await App.Db(db => db.AuditCheckpoints.SingleAsync());

        // No trigger needs to be out of the way: a pruning row is what the guard asks before a delete.
        await App.Db(async db =>
        {
            db.AuditPrunes.Add(new AuditPrune(0, checkpoint.LastEventId, checkpoint.Sequence, checkpoint.EventCount, checkpoint.Hash, "forged.jsonl", new string('0', 64), App.Time.GetUtcNow()));
            await db.SaveChangesAsync();
            return await db.AuditEvents.Where(e => e.Id <= checkpoint.LastEventId).ExecuteDeleteAsync();
        });

        var broken = await BrokenAsync();
        Assert.Equal(("pruned", ids[^1]), (broken.Kind, broken.EventId));
    }

    [Fact]
    public async Task ACheckpointsTimes_Changed_AreFound()
    {
        await SealedHistoryAsync();

        await TamperAsync("UPDATE \"AuditCheckpoints\" SET \"LastOccurredAt\" = \"FirstOccurredAt\" WHERE \"Sequence\" = 1");

        var broken = await BrokenAsync();
        Assert.Equal(("checkpoint", 1L), (broken.Kind, broken.Checkpoint));
    }

    [Fact]
    public async Task Pruning_RefusesEventsThatDoNotVerify()
    {
        var archive = System.IO.Directory.CreateTempSubdirectory("pim-archive-").FullName;
        await StartAsync(new Dictionary<string, string?> { ["Pim:Audit:Retention"] = "30.00:00:00", ["Pim:Audit:ArchiveDirectory"] = archive });
        var ids = await SealedHistoryAsync();
        await TamperAsync($"UPDATE \"AuditEvents\" SET \"ActorName\" = 'Somebody Else' WHERE \"Id\" = {ids[2]}");
        App.Time.Advance(TimeSpan.FromDays(31));

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Trail.PruneAsync(CancellationToken.None));

        Assert.Contains($"#{ids[2]}", ex.Message, StringComparison.Ordinal);
        var last = ids[^1];
        Assert.Equal(ids.Count, await App.Db(db => db.AuditEvents.CountAsync(e => e.Id <= last)));
        Assert.Empty(System.IO.Directory.GetFiles(archive));
        System.IO.Directory.Delete(archive);
    }

    private async Task MakeHistoryAsync()
    {
        await MoreEventsAsync();
        var request = await App.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);
        await App.ApproveAsync(DemoOrganisation.Bob, request, "CAB approved");
        App.Time.Advance(TimeSpan.FromMinutes(1));
    }

    /// <summary>Alice activates Exchange Administrator and deactivates it a minute later.</summary>
    private async Task MoreEventsAsync()
    {
        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30), ticket: "INC-1");
        App.Time.Advance(TimeSpan.FromMinutes(1));
        await App.SendAs(DemoOrganisation.Alice, new Core.Features.Activation.DeactivateRoles([outcome.ActivationId!.Value]));
    }

    private async Task<List<long>> SealedHistoryAsync()
    {
        await MakeHistoryAsync();
        await Trail.SealAsync(CancellationToken.None);
        var ids = await App.Db(db => db.AuditEvents.OrderBy(e => e.Id).Select(e => e.Id).ToListAsync());
        Assert.True(ids.Count >= 6, $"Only {ids.Count} events to tamper with.");
        return ids;
    }

    private async Task<AuditBreak> BrokenAsync()
    {
        var result = await App.SendAs(Dave, new VerifyAudit());
        Assert.False(result.Intact, "The tampering was not detected.");
        var audit = await App.Db(db => db.AuditEvents.OrderByDescending(e => e.Id).FirstAsync());
        Assert.Equal((AuditActions.AuditVerified, AuditOutcome.Failed), (audit.Action, audit.Outcome));
        return result.Break!;
    }

    /// <summary>Changes the trail as someone with the database in hand would: with its guard triggers out of the way.</summary>
    private Task TamperAsync(string sql) => App.Db(async db =>
    {
        if (IsPostgres)
        {
            await db.Database.ExecuteSqlRawAsync(
                "ALTER TABLE \"AuditEvents\" DISABLE TRIGGER USER; ALTER TABLE \"AuditCheckpoints\" DISABLE TRIGGER USER; " + sql +
                "; ALTER TABLE \"AuditEvents\" ENABLE TRIGGER USER; ALTER TABLE \"AuditCheckpoints\" ENABLE TRIGGER USER;");
        }
        else
        {
            var triggers = await db.Database.SqlQueryRaw<string>("SELECT name AS \"Value\" FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'TR_Audit%'").ToListAsync();
            foreach (var trigger in triggers)
            {
                await db.Database.ExecuteSqlRawAsync($"DROP TRIGGER \"{trigger}\"");
            }

            await db.Database.ExecuteSqlRawAsync(sql);
        }
    });

    /// <summary>Inserts an event with this id (PostgreSQL: moving the id sequence past it, as a real insert would).</summary>
    private Task InsertEventAsync(long id, string action) => App.Db(db => db.Database.ExecuteSqlRawAsync(InsertSql(id, action) +
        (IsPostgres ? "; SELECT setval(pg_get_serial_sequence('\"AuditEvents\"', 'Id'), (SELECT MAX(\"Id\") FROM \"AuditEvents\"))" : "")));

    private string InsertSql(long id, string action)
    {
        var occurredAt = IsPostgres ? "now()" : "0";
        return $"""
            INSERT INTO "AuditEvents" ("Id", "OccurredAt", "ActorName", "Action", "TargetType", "TargetId", "Outcome")
            VALUES ({id}, {occurredAt}, 'Mallory', '{action}', 'activation', 'forged', 'Success')
            """;
    }
}

/// <summary>
/// SQLite verifies from the stored bytes (no EF), the sealer hashes what EF reads: for every kind of value the two
/// must agree, or an untouched trail would read as broken.
/// </summary>
public sealed class AuditCanonicalSqliteTests() : HandlerTests(DatabaseKind.Sqlite)
{
    [Fact]
    public async Task SqliteVerification_AgreesWithTheSealer_ForEveryKindOfValue()
    {
        await App.Db(async db =>
        {
            db.AuditEvents.AddRange(
                new AuditEvent(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.FromHours(5.5)), Guid.NewGuid(), "Zoë O'Brien 😀", "activation.granted", "activation", "x", AuditOutcome.Failed,
                    "{\"justification\":\"it's \\\"quoted\\\", with, commas\\r\\nand lines — ünïcødé 𝄞\"}", Guid.NewGuid(), Guid.NewGuid()).From("::1", new string('u', 512), "c"),
                new AuditEvent(new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.FromHours(-8)), null, "", "a", "t", "", AuditOutcome.Refused, null),
                new AuditEvent(new DateTimeOffset(2026, 11, 27, 9, 0, 0, 123, TimeSpan.Zero).AddTicks(4567), null, "PimPortal", "b", "t", "y", AuditOutcome.Success, new string('d', 20_000)));
            await db.SaveChangesAsync();
        });
        var trail = App.Services.GetRequiredService<AuditTrail>();
        var count = await App.Db(db => db.AuditEvents.CountAsync());

        Assert.Equal(count, await trail.SealAsync(CancellationToken.None));
        var result = await trail.VerifyAsync(CancellationToken.None);

        Assert.True(result.Intact, result.Summary);
        Assert.Equal(count, result.EventsVerified);
    }
}

/// <summary>PostgreSQL commits ids out of order across connections: the sealer must not seal past one still open.</summary>
public sealed class AuditSealingOnPostgreSql() : HandlerTests(DatabaseKind.PostgreSql)
{
    [Fact]
    public async Task AnEventCommittedAfterHigherOnes_IsSealedInItsPlace_NotLeftBehind()
    {
        var trail = App.Services.GetRequiredService<AuditTrail>();
        await trail.SealAsync(CancellationToken.None);
        await using var open = new Npgsql.NpgsqlConnection(App.Database.ConnectionString);
        await open.OpenAsync(TestContext.Current.CancellationToken);
        var transaction = await open.BeginTransactionAsync(TestContext.Current.CancellationToken);
        long lateId;
        await using (var insert = new Npgsql.NpgsqlCommand(
            "INSERT INTO \"AuditEvents\" (\"OccurredAt\", \"ActorName\", \"Action\", \"TargetType\", \"TargetId\", \"Outcome\") VALUES (now(), 'Other instance', 'late.event', 'test', 'x', 'Success') RETURNING \"Id\"",
            open, transaction))
        {
            lateId = (long)(await insert.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }

        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30));
        var higher = await App.Db(db => db.AuditEvents.MaxAsync(e => e.Id));

        // While the other transaction is open, nothing above its event may be sealed: it could still commit below.
        Assert.Equal(0, await trail.SealAsync(CancellationToken.None));
        await transaction.CommitAsync(TestContext.Current.CancellationToken);
        await transaction.DisposeAsync();
        await trail.SealAsync(CancellationToken.None);

        Assert.True(higher > lateId);
        Assert.Equal(0, await App.Db(db => db.AuditEvents.CountAsync(e => e.ChainHash == null)));
        var result = await trail.VerifyAsync(CancellationToken.None);
        Assert.True(result.Intact, result.Summary);
    }
}
