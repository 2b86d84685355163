using System.Globalization;
using System.Text;
using System.Text.Json;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Audit;

/// <summary>
/// The files the trail leaves the database in, both JSON lines with a <c>type</c> on each line: the digest
/// (<c>header</c>, then a <c>checkpoint</c> per seal and a <c>prune</c> per pruning) and the retention archive
/// (<c>header</c> with the chain hash it starts from, its <c>checkpoint</c>s, then every <c>event</c> with all its
/// fields and chain hash). Together they verify the pruned trail with no database (<c>verify-audit --archive</c>).
/// </summary>
public static class AuditFiles
{
    public const string DigestFormat = "pimportal-audit-digest/1";
    public const string ArchiveFormat = "pimportal-audit-archive/1";
    public const string Algorithm = "SHA-256 chain: hash = SHA256(previous hash || canonical event); the first previous hash is 32 zero bytes";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    internal static void WriteHeader(Utf8JsonWriter json, string format, DateTimeOffset createdAt, Action<Utf8JsonWriter>? more = null)
    {
        json.WriteStartObject();
        json.WriteString("type", "header");
        json.WriteString("format", format);
        json.WriteString("algorithm", Algorithm);
        json.WriteString("createdAt", createdAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        more?.Invoke(json);
        json.WriteEndObject();
    }

    internal static void WriteCheckpoint(Utf8JsonWriter json, AuditCheckpoint c)
    {
        json.WriteStartObject();
        json.WriteString("type", "checkpoint");
        json.WriteNumber("sequence", c.Sequence);
        json.WriteNumber("firstEventId", c.FirstEventId);
        json.WriteNumber("lastEventId", c.LastEventId);
        json.WriteNumber("eventCount", c.EventCount);
        json.WriteString("previousHash", Convert.ToHexStringLower(c.PreviousHash));
        json.WriteString("hash", Convert.ToHexStringLower(c.Hash));
        json.WriteString("firstOccurredAt", Instant(c.FirstOccurredAt));
        json.WriteString("lastOccurredAt", Instant(c.LastOccurredAt));
        json.WriteString("sealedAt", Instant(c.SealedAt));
        json.WriteEndObject();
    }

    internal static void WritePrune(Utf8JsonWriter json, AuditPrune p)
    {
        json.WriteStartObject();
        json.WriteString("type", "prune");
        json.WriteNumber("afterEventId", p.AfterEventId);
        json.WriteNumber("throughEventId", p.ThroughEventId);
        json.WriteNumber("throughCheckpoint", p.ThroughCheckpoint);
        json.WriteNumber("eventCount", p.EventCount);
        json.WriteString("boundaryHash", Convert.ToHexStringLower(p.BoundaryHash));
        json.WriteString("archiveFile", p.ArchiveFile);
        json.WriteString("archiveSha256", p.ArchiveSha256);
        json.WriteString("prunedAt", Instant(p.PrunedAt));
        json.WriteEndObject();
    }

    internal static void WriteEvent(Utf8JsonWriter json, AuditEvent e)
    {
        json.WriteStartObject();
        json.WriteString("type", "event");
        json.WriteNumber("id", e.Id);
        json.WriteString("occurredAt", Instant(e.OccurredAt));
        WriteGuid(json, "actorId", e.ActorId);
        json.WriteString("actorName", e.ActorName);
        json.WriteString("action", e.Action);
        json.WriteString("targetType", e.TargetType);
        json.WriteString("targetId", e.TargetId);
        WriteGuid(json, "subjectId", e.SubjectId);
        WriteGuid(json, "roleId", e.RoleId);
        json.WriteString("outcome", e.Outcome.ToString());
        json.WriteString("details", e.Details);
        json.WriteString("clientAddress", e.ClientAddress);
        json.WriteString("userAgent", e.UserAgent);
        json.WriteString("correlationId", e.CorrelationId);
        json.WriteString("chainHash", e.ChainHash is null ? null : Convert.ToHexStringLower(e.ChainHash));
        json.WriteEndObject();
    }

    /// <summary>Writes one line made by <paramref name="write"/> to <paramref name="output"/>.</summary>
    internal static async Task WriteLineAsync(Stream output, Action<Utf8JsonWriter> write, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(json);
        }

        buffer.WriteByte((byte)'\n');
        await output.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken);
    }

    /// <summary>The lines of a digest or archive file, each parsed; a line that is not JSON is named by its number.</summary>
    public static async IAsyncEnumerable<(int Line, JsonElement Value)> ReadLinesAsync(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var number = 0;
        while (await reader.ReadLineAsync() is { } line)
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"Line {number} is not JSON: {ex.Message}", ex);
            }

            using (document)
            {
                yield return (number, document.RootElement.Clone());
            }
        }
    }

    internal static AuditCheckpoint ReadCheckpoint(JsonElement line) => new(
        line.GetProperty("sequence").GetInt64(), line.GetProperty("firstEventId").GetInt64(), line.GetProperty("lastEventId").GetInt64(),
        line.GetProperty("eventCount").GetInt64(), Convert.FromHexString(line.GetProperty("previousHash").GetString()!),
        Convert.FromHexString(line.GetProperty("hash").GetString()!), ReadInstant(line, "firstOccurredAt"), ReadInstant(line, "lastOccurredAt"),
        ReadInstant(line, "sealedAt"));

    internal static AuditEvent ReadEvent(JsonElement line) => AuditEvent.Restore(
        line.GetProperty("id").GetInt64(), ReadInstant(line, "occurredAt"), ReadGuid(line, "actorId"), line.GetProperty("actorName").GetString()!,
        line.GetProperty("action").GetString()!, line.GetProperty("targetType").GetString()!, line.GetProperty("targetId").GetString()!,
        AuditChain.ParseOutcome(line.GetProperty("outcome").GetString()!), ReadString(line, "details"), ReadGuid(line, "subjectId"),
        ReadGuid(line, "roleId"), ReadString(line, "clientAddress"), ReadString(line, "userAgent"), ReadString(line, "correlationId"),
        ReadString(line, "chainHash") is { } hash ? Convert.FromHexString(hash) : null);

    internal static string Instant(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ReadInstant(JsonElement line, string name) =>
        DateTimeOffset.Parse(line.GetProperty(name).GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    private static void WriteGuid(Utf8JsonWriter json, string name, Guid? value)
    {
        if (value is { } guid)
        {
            json.WriteString(name, guid);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static Guid? ReadGuid(JsonElement line, string name) =>
        line.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetGuid() : null;

    private static string? ReadString(JsonElement line, string name) =>
        line.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static UTF8Encoding Encoding => Utf8;

    /// <summary>The checkpoints and prunings of a digest file.</summary>
    public static async Task<AuditDigest> ReadDigestAsync(TextReader reader)
    {
        var checkpoints = new List<AuditCheckpoint>();
        var prunes = new List<AuditPrune>();
        var header = false;
        await foreach (var (number, line) in ReadLinesAsync(reader))
        {
            switch (TypeOf(line, number))
            {
                case "header":
                    RequireFormat(line, DigestFormat, number);
                    header = true;
                    break;
                case "checkpoint":
                    checkpoints.Add(Parse(number, () => ReadCheckpoint(line)));
                    break;
                case "prune":
                    prunes.Add(Parse(number, () => ReadPrune(line)));
                    break;
                case var other:
                    throw new InvalidDataException($"Line {number}: a digest has no '{other}' lines.");
            }
        }

        return header ? new AuditDigest(checkpoints, prunes) : throw new InvalidDataException($"This is not a digest file: it has no header line of format {DigestFormat}.");
    }

    private static AuditPrune ReadPrune(JsonElement line) => new(
        line.GetProperty("afterEventId").GetInt64(), line.GetProperty("throughEventId").GetInt64(), line.GetProperty("throughCheckpoint").GetInt64(),
        line.GetProperty("eventCount").GetInt64(), Convert.FromHexString(line.GetProperty("boundaryHash").GetString()!), line.GetProperty("archiveFile").GetString()!,
        line.GetProperty("archiveSha256").GetString()!, ReadInstant(line, "prunedAt"));

    /// <summary>
    /// Verifies an archive file with no database: its events against its checkpoints, from the chain hash it starts
    /// at, and nothing after its last checkpoint; with <paramref name="digest"/>, its checkpoints (and that start) must
    /// also be the digest's, and the digest must record a pruning of exactly this range into a file with
    /// <paramref name="archiveSha256"/> (the file's SHA-256, when the caller read it from a file).
    /// </summary>
    public static async Task<AuditVerification> VerifyArchiveAsync(TextReader archive, AuditDigest? digest, string? archiveSha256 = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var checkpoints = new List<AuditCheckpoint>();
        AuditChainWalker? walker = null;
        byte[]? start = null;
        long after = 0;
        long through = 0;
        await foreach (var (number, line) in ReadLinesAsync(archive))
        {
            switch (TypeOf(line, number))
            {
                case "header":
                    RequireFormat(line, ArchiveFormat, number);
                    start = Parse(number, () => Convert.FromHexString(line.GetProperty("startHash").GetString()!));
                    after = Parse(number, () => line.GetProperty("afterEventId").GetInt64());
                    through = Parse(number, () => line.GetProperty("throughEventId").GetInt64());
                    break;
                case "checkpoint" when walker is null:
                    checkpoints.Add(Parse(number, () => ReadCheckpoint(line)));
                    break;
                case "event":
                    if (walker is null)
                    {
                        if (Begin(start, after, through, checkpoints, digest, archiveSha256) is { } differs)
                        {
                            return new AuditVerification(false, 0, 0, 0, null, differs, watch.Elapsed);
                        }

                        walker = new AuditChainWalker(checkpoints, start!, after);
                    }

                    if (!walker.Add(Parse(number, () => ReadEvent(line))))
                    {
                        return walker.Finish(null, watch.Elapsed);
                    }

                    break;
                case var other:
                    throw new InvalidDataException($"Line {number}: an archive has no '{other}' lines here.");
            }
        }

        if (walker is null)
        {
            if (Begin(start, after, through, checkpoints, digest, archiveSha256) is { } differs)
            {
                return new AuditVerification(false, 0, 0, 0, null, differs, watch.Elapsed);
            }

            walker = new AuditChainWalker(checkpoints, start!, after);
        }

        var result = walker.Finish(null, watch.Elapsed);
        return result is { Intact: true, Unsealed: > 0 }
            ? result with { Intact = false, Break = new AuditBreak("inserted", $"The archive has {result.Unsealed} events after its last checkpoint: an archive holds sealed events only.", null, null) }
            : result;
    }

    /// <summary>What must hold before an archive's events are walked: its header, its range, and the digest's word on it.</summary>
    private static AuditBreak? Begin(byte[]? start, long after, long through, List<AuditCheckpoint> checkpoints, AuditDigest? digest, string? archiveSha256)
    {
        if (start is null)
        {
            throw new InvalidDataException($"This is not an audit archive: it has no header line of format {ArchiveFormat}.");
        }

        if (checkpoints.Count == 0 || checkpoints[^1].LastEventId != through || checkpoints[0].FirstEventId <= after)
        {
            return new AuditBreak("checkpoint", $"The archive's checkpoints do not cover the events #{after + 1}–#{through} its header names.", null, null);
        }

        if (digest is null)
        {
            return null;
        }

        var count = checkpoints.Sum(c => c.EventCount);
        var recorded = digest.Prunes.Any(p => p.AfterEventId == after && p.ThroughEventId == through && p.EventCount == count && p.ThroughCheckpoint == checkpoints[^1].Sequence &&
            (archiveSha256 is null || string.Equals(p.ArchiveSha256, archiveSha256, StringComparison.OrdinalIgnoreCase)));
        return recorded
            ? CompareWithDigest(checkpoints, start, digest.Checkpoints)
            : new AuditBreak("digest", $"The digest records no pruning of events #{after + 1}–#{through} into this file.", null, null);
    }

    private static AuditBreak? CompareWithDigest(List<AuditCheckpoint> checkpoints, byte[] start, IReadOnlyList<AuditCheckpoint> digest)
    {
        var bySequence = digest.ToDictionary(c => c.Sequence);
        if (checkpoints.Count > 0)
        {
            var first = checkpoints[0].Sequence;
            var expectedStart = first == 1 ? AuditChain.Genesis : bySequence.TryGetValue(first - 1, out var before) ? before.Hash : null;
            if (expectedStart is null || !expectedStart.AsSpan().SequenceEqual(start))
            {
                return new AuditBreak("digest", $"The archive does not start where checkpoint {first - 1} of the digest ends.", null, first);
            }
        }

        foreach (var checkpoint in checkpoints)
        {
            if (AuditTrail.DigestDifference([checkpoint], bySequence) is not null)
            {
                return new AuditBreak("digest", $"Checkpoint {checkpoint.Sequence} in the archive differs from the digest's, or the digest does not have it.", null, checkpoint.Sequence);
            }
        }

        return null;
    }

    private static string TypeOf(JsonElement line, int number) =>
        line.ValueKind == JsonValueKind.Object && line.TryGetProperty("type", out var type) && type.GetString() is { } value
            ? value
            : throw new InvalidDataException($"Line {number} has no \"type\".");

    private static void RequireFormat(JsonElement line, string format, int number)
    {
        if (!line.TryGetProperty("format", out var value) || value.GetString() != format)
        {
            throw new InvalidDataException($"Line {number}: the format is not {format}.");
        }
    }

    private static T Parse<T>(int number, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is KeyNotFoundException or FormatException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"Line {number} is incomplete or malformed: {ex.Message}", ex);
        }
    }
}

/// <summary>A digest file: the checkpoints and the prunings as they were when it was exported.</summary>
public sealed record AuditDigest(IReadOnlyList<AuditCheckpoint> Checkpoints, IReadOnlyList<AuditPrune> Prunes);
