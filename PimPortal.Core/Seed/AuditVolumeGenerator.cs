using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using PimPortal.Core.Audit;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Seed;

/// <summary>
/// Makes a large, realistic audit trail on a migrated SQLite database for the benchmarks: activations of 2,000 users
/// over the demo roles across two years (requested, approved, granted, provisioned, expired or deactivated; some
/// refused and failed), with justifications and ticket numbers — sealed into checkpoints exactly as the sealer would
/// (<see cref="AuditChain"/>), except the last <c>unsealed</c> events, left for the sealer. Written with one prepared
/// statement per table in large transactions: ten million events take minutes, not hours.
/// </summary>
internal static class AuditVolumeGenerator
{
    private static readonly DateTimeOffsetToBinaryConverter Instant = new();

    public static async Task GenerateAsync(string connectionString, long events, long unsealed, DateTimeOffset end, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(unsealed, events);
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous = OFF; PRAGMA cache_size = -1000000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var start = connection.CreateCommand();
        start.CommandText = """
            SELECT COALESCE((SELECT MAX("Id") FROM "AuditEvents"), 0),
                   (SELECT "Sequence" FROM "AuditCheckpoints" ORDER BY "Sequence" DESC LIMIT 1),
                   (SELECT "Hash" FROM "AuditCheckpoints" ORDER BY "Sequence" DESC LIMIT 1),
                   (SELECT COUNT(*) FROM "AuditEvents" WHERE "ChainHash" IS NULL)
            """;
        long lastId;
        long sequence;
        byte[] previous;
        await using (var reader = await start.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            lastId = reader.GetInt64(0);
            sequence = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
            previous = reader.IsDBNull(2) ? AuditChain.Genesis : (byte[])reader[2];
            if (reader.GetInt64(3) > 0)
            {
                throw new InvalidOperationException("Seal the trail first: the generator continues a fully sealed chain.");
            }
        }

        // The full-text trigger parses each event's details; the generator knows their text and indexes it itself,
        // putting the trigger back as it was at the end.
        string? textTrigger;
        await using (var find = connection.CreateCommand())
        {
            find.CommandText = "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'TR_AuditEvents_Text'";
            textTrigger = (string?)await find.ExecuteScalarAsync(cancellationToken);
            find.CommandText = "DROP TRIGGER IF EXISTS \"TR_AuditEvents_Text\"";
            await find.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var text = connection.CreateCommand();
        text.CommandText = "INSERT INTO \"AuditEventsText\" (rowid, \"Text\") VALUES ($id, $text)";
        var textId = text.Parameters.Add(new SqliteParameter { ParameterName = "$id" });
        var textValue = text.Parameters.Add(new SqliteParameter { ParameterName = "$text" });

        var users = Enumerable.Range(0, 2000).Select(i => (Id: DeterministicGuid(i), Name: $"Bench User {i:D4}")).ToArray();
        var roles = DemoOrganisation.Roles;
        var approvers = users.Take(20).ToArray();
        var span = TimeSpan.FromDays(730);
        var first = new DateTimeOffset((end - span).UtcTicks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var step = span.Ticks / Math.Max(events, 1);

        await using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO "AuditEvents" ("Id", "OccurredAt", "ActorId", "ActorName", "Action", "TargetType", "TargetId", "SubjectId", "RoleId", "Outcome",
                "Details", "ClientAddress", "UserAgent", "CorrelationId", "ChainHash")
            VALUES ($id, $at, $actorId, $actorName, $action, $targetType, $targetId, $subjectId, $roleId, $outcome, $details, $address, $agent, $correlation, $hash)
            """;
        var p = new Dictionary<string, SqliteParameter>();
        foreach (var name in new[] { "$id", "$at", "$actorId", "$actorName", "$action", "$targetType", "$targetId", "$subjectId", "$roleId", "$outcome", "$details", "$address", "$agent", "$correlation", "$hash" })
        {
            p[name] = insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        await using var checkpoint = connection.CreateCommand();
        checkpoint.CommandText = """
            INSERT INTO "AuditCheckpoints" ("Sequence", "FirstEventId", "LastEventId", "EventCount", "PreviousHash", "Hash", "FirstOccurredAt", "LastOccurredAt", "SealedAt")
            VALUES ($sequence, $first, $last, $count, $previous, $hash, $firstAt, $lastAt, $sealedAt)
            """;
        var c = new Dictionary<string, SqliteParameter>();
        foreach (var name in new[] { "$sequence", "$first", "$last", "$count", "$previous", "$hash", "$firstAt", "$lastAt", "$sealedAt" })
        {
            c[name] = checkpoint.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        var hasher = new AuditChain.Hasher();
        var toSeal = events - unsealed;
        long inCheckpoint = 0;
        long checkpointFirst = 0;
        DateTimeOffset checkpointFirstAt = default;
        var checkpointPrevious = previous;
        SqliteTransaction? transaction = null;
        for (long n = 0; n < events; n++)
        {
            if (n % 100_000 == 0)
            {
                if (transaction is not null)
                {
                    await transaction.CommitAsync(cancellationToken);
                    await transaction.DisposeAsync();
                }

                transaction = connection.BeginTransaction();
                insert.Transaction = transaction;
                checkpoint.Transaction = transaction;
                text.Transaction = transaction;
            }

            var e = Make(lastId + n + 1, n, new DateTimeOffset(first.UtcTicks + (n * step) / 10_000 * 10_000, TimeSpan.Zero), users, approvers, roles);
            var seal = n < toSeal;
            byte[]? hash = null;
            if (seal)
            {
                if (inCheckpoint == 0)
                {
                    checkpointFirst = e.Id;
                    checkpointFirstAt = e.OccurredAt;
                    checkpointPrevious = previous;
                }

                hash = hasher.Next(previous, e);
                previous = hash;
                inCheckpoint++;
            }

            p["$id"].Value = e.Id;
            p["$at"].Value = Instant.ConvertToProvider(e.OccurredAt);
            p["$actorId"].Value = (object?)e.ActorId ?? DBNull.Value;
            p["$actorName"].Value = e.ActorName;
            p["$action"].Value = e.Action;
            p["$targetType"].Value = e.TargetType;
            p["$targetId"].Value = e.TargetId;
            p["$subjectId"].Value = (object?)e.SubjectId ?? DBNull.Value;
            p["$roleId"].Value = (object?)e.RoleId ?? DBNull.Value;
            p["$outcome"].Value = e.Outcome.ToString();
            p["$details"].Value = (object?)e.Details ?? DBNull.Value;
            p["$address"].Value = (object?)e.ClientAddress ?? DBNull.Value;
            p["$agent"].Value = (object?)e.UserAgent ?? DBNull.Value;
            p["$correlation"].Value = (object?)e.CorrelationId ?? DBNull.Value;
            p["$hash"].Value = (object?)hash ?? DBNull.Value;
            await insert.ExecuteNonQueryAsync(cancellationToken);
            textId.Value = e.Id;
            textValue.Value = TextOf(e.Details!);
            await text.ExecuteNonQueryAsync(cancellationToken);

            if (seal && (inCheckpoint == AuditTrail.CheckpointSize || n == toSeal - 1))
            {
                c["$sequence"].Value = ++sequence;
                c["$first"].Value = checkpointFirst;
                c["$last"].Value = e.Id;
                c["$count"].Value = inCheckpoint;
                c["$previous"].Value = checkpointPrevious;
                c["$hash"].Value = previous;
                c["$firstAt"].Value = Instant.ConvertToProvider(checkpointFirstAt);
                c["$lastAt"].Value = Instant.ConvertToProvider(e.OccurredAt);
                c["$sealedAt"].Value = Instant.ConvertToProvider(e.OccurredAt.AddSeconds(30));
                await checkpoint.ExecuteNonQueryAsync(cancellationToken);
                inCheckpoint = 0;
            }
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
            await transaction.DisposeAsync();
        }

        await using var analyze = connection.CreateCommand();
        if (textTrigger is not null)
        {
            analyze.CommandText = textTrigger;
            await analyze.ExecuteNonQueryAsync(cancellationToken);
        }

        analyze.CommandText = "ANALYZE";
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The n-th event: an activation's life takes six events (requested, approved, granted, provisioned, then expired or deactivated, and a mail).</summary>
    private static AuditEvent Make(long id, long n, DateTimeOffset at, (Guid Id, string Name)[] users, (Guid Id, string Name)[] approvers, IReadOnlyList<DemoRole> roles)
    {
        var activation = n / 6;
        var user = users[(int)(Mix(activation) % (ulong)users.Length)];
        var role = roles[(int)(Mix(activation + 7) % (ulong)roles.Count)];
        var approver = approvers[(int)(activation % approvers.Length)];
        var ticket = string.Create(CultureInfo.InvariantCulture, $"INC{activation:D8}");
        var target = DeterministicGuid(activation + 1_000_000).ToString();
        var (action, actor, outcome) = (n % 6) switch
        {
            0 => (AuditActions.ActivationRequested, user, activation % 97 == 0 ? AuditOutcome.Refused : AuditOutcome.Success),
            1 => (AuditActions.ApprovalGiven, approver, AuditOutcome.Success),
            2 => (AuditActions.ActivationGranted, ((Guid, string)?)null, AuditOutcome.Success),
            3 => (activation % 211 == 0 ? AuditActions.ActivationProvisioningFailed : AuditActions.ActivationProvisioned, null, activation % 211 == 0 ? AuditOutcome.Failed : AuditOutcome.Success),
            4 => (activation % 3 == 0 ? AuditActions.ActivationDeactivated : AuditActions.ActivationExpired, activation % 3 == 0 ? user : null, AuditOutcome.Success),
            _ => (AuditActions.NotificationMailed, null, AuditOutcome.Success),
        };
        var details = string.Create(CultureInfo.InvariantCulture,
            $$"""{"role":"{{role.DisplayName}}","scope":"{{role.Scope}}","duration":"0{{1 + (activation % 8)}}:00:00","justification":"{{Justifications[activation % Justifications.Length]}} ({{ticket}})","ticketNumber":"{{ticket}}","ticketSystem":"ServiceNow"}""");
        return AuditEvent.Restore(
            id, at, actor?.Item1, actor?.Item2 ?? "PimPortal", action, "activation", target, outcome, details, user.Id, role.Id,
            actor is null ? null : "10.20.30.40", actor is null ? null : "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0", string.Create(CultureInfo.InvariantCulture, $"{activation:x16}"), null);
    }

    /// <summary>The text values of the details, as the full-text trigger joins them.</summary>
    private static string TextOf(string details)
    {
        using var document = System.Text.Json.JsonDocument.Parse(details);
        return string.Join(' ', document.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == System.Text.Json.JsonValueKind.String).Select(p => p.Value.GetString()));
    }

    private static readonly string[] Justifications =
    [
        "Monthly patching of the Exchange hybrid servers",
        "Investigate sign-in failures reported by the service desk",
        "Rotate the application secret before it expires",
        "Emergency change: restore mailbox permissions",
        "Quarterly access review follow-up",
        "Onboard the new subsidiary's domain",
        "Break-fix on conditional access policy",
        "Audit request from internal controls",
    ];

    private static ulong Mix(long value)
    {
        var x = (ulong)value * 0x9E3779B97F4A7C15UL;
        x ^= x >> 31;
        return x * 0xBF58476D1CE4E5B9UL;
    }

    private static Guid DeterministicGuid(long value)
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, Mix(value));
        BitConverter.TryWriteBytes(bytes[8..], Mix(value + 0x5555));
        return new Guid(bytes);
    }
}
