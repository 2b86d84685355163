using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Audit;

/// <summary>
/// The audit trail's hash chain. The chain hash through an event is <c>SHA-256(previous chain hash ‖ canonical bytes of
/// the event)</c> — every recorded field, its id included, length-prefixed, so no two events share an encoding —
/// starting from 32 zero bytes. Editing, removing, inserting or
/// reordering an event changes every chain hash from it on — and the checkpoints that seal them.
/// </summary>
public static class AuditChain
{
    public const int HashSize = 32;

    /// <summary>The chain hash before the first event ever.</summary>
    public static byte[] Genesis => new byte[HashSize];

    /// <summary>A reusable encoder: one per thread of work (it keeps its buffer).</summary>
    public sealed class Hasher
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);

        /// <summary>The chain hash after <paramref name="e"/>, given the chain hash before it.</summary>
        public byte[] Next(ReadOnlySpan<byte> previous, AuditEvent e)
        {
            var next = new byte[HashSize];
            Next(previous, e, next);
            return next;
        }

        public void Next(ReadOnlySpan<byte> previous, AuditEvent e, Span<byte> destination)
        {
            ArgumentNullException.ThrowIfNull(e);
            _buffer.ResetWrittenCount();
            previous.CopyTo(_buffer.GetSpan(HashSize));
            _buffer.Advance(HashSize);
            Encode(_buffer, e);
            SHA256.HashData(_buffer.WrittenSpan, destination);
        }
    }

    /// <summary>
    /// The canonical bytes of an event: format version 1, the id and the UTC ticks as 8 bytes big-endian, then each
    /// field in a fixed order — null as byte 0; a GUID as byte 1 and its 36 upper-case characters; text as byte 1, its
    /// UTF-8 length as 4 bytes big-endian and its UTF-8 bytes. (On SQLite, verification builds the same bytes from the
    /// stored values directly: <see cref="SqliteTrailReader"/>.)
    /// </summary>
    internal static void Encode(IBufferWriter<byte> output, AuditEvent e)
    {
        output.GetSpan(1)[0] = 1;
        output.Advance(1);
        WriteInt64(output, e.Id);
        WriteInt64(output, e.OccurredAt.UtcTicks);
        WriteGuid(output, e.ActorId);
        WriteString(output, e.ActorName);
        WriteString(output, e.Action);
        WriteString(output, e.TargetType);
        WriteString(output, e.TargetId);
        WriteGuid(output, e.SubjectId);
        WriteGuid(output, e.RoleId);
        WriteString(output, OutcomeName(e.Outcome));
        WriteString(output, e.Details);
        WriteString(output, e.ClientAddress);
        WriteString(output, e.UserAgent);
        WriteString(output, e.CorrelationId);
    }

    /// <summary>An outcome as stored, exactly; anything else becomes a value no event is sealed with (so it fails verification).</summary>
    internal static AuditOutcome ParseOutcome(string stored) => stored switch
    {
        nameof(AuditOutcome.Success) => AuditOutcome.Success,
        nameof(AuditOutcome.Refused) => AuditOutcome.Refused,
        nameof(AuditOutcome.Failed) => AuditOutcome.Failed,
        _ => (AuditOutcome)(-1),
    };

    private static string OutcomeName(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Success => nameof(AuditOutcome.Success),
        AuditOutcome.Refused => nameof(AuditOutcome.Refused),
        AuditOutcome.Failed => nameof(AuditOutcome.Failed),
        _ => "invalid " + ((int)outcome).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static void WriteInt64(IBufferWriter<byte> output, long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(output.GetSpan(8), value);
        output.Advance(8);
    }

    private static void WriteGuid(IBufferWriter<byte> output, Guid? value)
    {
        var span = output.GetSpan(37);
        if (value is { } guid)
        {
            span[0] = 1;
            guid.TryFormat(span.Slice(1, 36), out _, "D");
            for (var i = 1; i <= 36; i++)
            {
                span[i] = span[i] is >= (byte)'a' and <= (byte)'f' ? (byte)(span[i] - 32) : span[i];
            }

            output.Advance(37);
        }
        else
        {
            span[0] = 0;
            output.Advance(1);
        }
    }

    private static void WriteString(IBufferWriter<byte> output, string? value)
    {
        if (value is null)
        {
            output.GetSpan(1)[0] = 0;
            output.Advance(1);
            return;
        }

        var span = output.GetSpan(5 + Encoding.UTF8.GetMaxByteCount(value.Length));
        span[0] = 1;
        var length = Encoding.UTF8.GetBytes(value, span[5..]);
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        output.Advance(5 + length);
    }
}
