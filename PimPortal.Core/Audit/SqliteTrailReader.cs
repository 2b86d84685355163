using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PimPortal.Core.Audit;

/// <summary>
/// Feeds SQLite's audit events to a <see cref="AuditChainWalker"/> through SQLite's own API: each event's canonical
/// bytes (<see cref="AuditChain.Encode"/>) are built from the stored values as they are — UTF-8 text, GUIDs as the
/// upper-case text the portal stores, instants in EF's binary form — so no string is decoded for events that match.
/// The tests hold the bytes to <see cref="AuditChain.Encode"/> of the same rows read through EF.
/// </summary>
internal static class SqliteTrailReader
{
    private const string Sql = """
        SELECT "Id", "OccurredAt", "ActorId", "ActorName", "Action", "TargetType", "TargetId", "SubjectId", "RoleId", "Outcome",
               "Details", "ClientAddress", "UserAgent", "CorrelationId", "ChainHash"
        FROM "AuditEvents" WHERE "Id" > ?1 AND "Id" <= ?2 ORDER BY "Id"
        """;

    // Columns 2… in canonical order, and whether each is a GUID (36 characters, no length) or text.
    private static readonly (int Column, bool Guid)[] Fields =
        [(2, true), (3, false), (4, false), (5, false), (6, false), (7, true), (8, true), (9, false), (10, false), (11, false), (12, false), (13, false)];

    public static void Walk(SqliteConnection connection, AuditChainWalker walker, long after, long through, CancellationToken cancellationToken)
    {
        var handle = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(handle, raw.sqlite3_prepare_v2(handle, Sql, out var statement));
        using (statement)
        {
            Check(handle, raw.sqlite3_bind_int64(statement, 1, after));
            Check(handle, raw.sqlite3_bind_int64(statement, 2, through));
            // One hashing step and one description for the whole walk: they read the row the statement is on.
            var row = new Row();
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            NextHash next = (previous, destination) =>
            {
                previous.CopyTo(row.Buffer);
                sha256.AppendData(row.Buffer, 0, row.Length);
                sha256.GetHashAndReset(destination);
            };
            Func<string> describe = () => AuditChainWalker.Describe(Instant(raw.sqlite3_column_int64(statement, 1)), Text(statement, 4), Text(statement, 3));
            var rows = 0;
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                if (++rows % 16384 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                row.Length = Canonical(statement, ref row.Buffer, out var occurredAt);
                var isSealed = raw.sqlite3_column_type(statement, 14) != raw.SQLITE_NULL;
                if (!walker.Add(raw.sqlite3_column_int64(statement, 0), isSealed ? raw.sqlite3_column_blob(statement, 14) : default, isSealed, occurredAt, next, describe))
                {
                    return;
                }
            }

            if (rc != raw.SQLITE_DONE)
            {
                Check(handle, rc);
            }
        }
    }

    /// <summary>The current row's canonical bytes, after 32 bytes kept for the previous hash.</summary>
    private sealed class Row
    {
#pragma warning disable SA1401, CA1051 // A buffer passed by reference to be grown: a field, on purpose.
        public byte[] Buffer = new byte[8192];
        public int Length;
#pragma warning restore SA1401, CA1051
    }

    /// <summary>Writes the current row's canonical bytes after 32 bytes kept for the previous hash; returns the total length, and gives the event's time.</summary>
    private static int Canonical(sqlite3_stmt statement, ref byte[] buffer, out DateTimeOffset occurredAt)
    {
        occurredAt = Instant(raw.sqlite3_column_int64(statement, 1));
        var at = AuditChain.HashSize;
        Reserve(ref buffer, at, 17);
        buffer[at++] = 1;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(at), raw.sqlite3_column_int64(statement, 0));
        at += 8;
        BinaryPrimitives.WriteInt64BigEndian(buffer.AsSpan(at), occurredAt.UtcTicks);
        at += 8;
        foreach (var (column, guid) in Fields)
        {
            // A NULL where the schema forbids one is written as null: EF could not read the row, so it cannot match.
            if (raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL)
            {
                Reserve(ref buffer, at, 1);
                buffer[at++] = 0;
                continue;
            }

            var value = raw.sqlite3_column_blob(statement, column);
            Reserve(ref buffer, at, 5 + value.Length);

            // What is not a 36-character GUID where one belongs is marked as no canonical event is (2): it cannot match.
            buffer[at++] = guid && value.Length != 36 ? (byte)2 : (byte)1;
            if (!guid || value.Length != 36)
            {
                BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(at), value.Length);
                at += 4;
            }

            value.CopyTo(buffer.AsSpan(at));
            at += value.Length;
        }

        return at;
    }

    private static void Reserve(ref byte[] buffer, int at, int more)
    {
        if (at + more > buffer.Length)
        {
            Array.Resize(ref buffer, (at + more) * 2);
        }
    }

    /// <summary>
    /// EF's binary form of an instant: local ticks / 1000 shifted left 11 bits, the offset in minutes in the low 11. What
    /// EF could not read (an offset past ±14 hours, a time out of range) becomes the earliest instant, which no sealed
    /// event has.
    /// </summary>
    private static DateTimeOffset Instant(long stored)
    {
        var offsetMinutes = (stored << 53) >> 53;
        var localTicks = (stored >> 11) * 1000;
        var utcTicks = localTicks - offsetMinutes * TimeSpan.TicksPerMinute;
        return Math.Abs(offsetMinutes) <= 14 * 60 && localTicks is >= 0 and <= 3155378975999999999 && utcTicks is >= 0 and <= 3155378975999999999
            ? new DateTimeOffset(utcTicks, TimeSpan.Zero)
            : DateTimeOffset.MinValue;
    }

    private static string Text(sqlite3_stmt statement, int column) => Encoding.UTF8.GetString(raw.sqlite3_column_blob(statement, column));

    private static void Check(sqlite3 handle, int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(handle).utf8_to_string(), rc);
        }
    }
}
