using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using CsCheck;
using PimPortal.Core.Audit;
using PimPortal.Core.Domain;

namespace PimPortal.Tests.Properties;

/// <summary>
/// The audit trail's canonical encoding over generated events (any text, nulls, any GUIDs, times and outcomes): the
/// bytes decode back, by the format its documentation gives, to exactly the event — so no two different events share
/// their bytes (text moved from one field to the next, a null for an empty string, all give other bytes), and a hash
/// chain over them cannot be fooled by re-cutting fields. 10,000 events.
/// </summary>
public sealed class AuditEncodingProperties
{
    private static readonly string[] Pieces = ["a", "b", ";", "|", "\u0000", "\u00e9", "\u4e2d", "\ud83d\ude00"];

    // Text as a database holds it: well-formed Unicode (a lone surrogate half becomes U+FFFD on the way in, in the
    // database as in the hash), with separators, NULs, accents, CJK and characters outside the BMP.
    private static readonly Gen<string?> Text = Gen.Frequency(
        (1, Gen.Const<string?>(() => null)),
        (1, Gen.Const<string?>("")),
        (4, Gen.String.Select(s => (string?)AsStored(s))),
        (2, Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[0, 8].Select(parts => (string?)string.Concat(parts))));

    private static readonly Gen<Guid?> Guids = Gen.Frequency((1, Gen.Const<Guid?>(() => null)), (3, Gen.Guid.Select(g => (Guid?)g)));

    private static readonly Gen<AuditEvent> Events =
        Gen.Select(Gen.Long[1, long.MaxValue], Gen.Long[0, DateTime.MaxValue.Ticks], Guids, Text, Text, Text, Text, Guids)
            .SelectMany((id, ticks, actor, actorName, action, targetType, targetId, subject) =>
                Gen.Select(Guids, Gen.Enum<AuditOutcome>(), Text, Text, Text, Text).Select((role, outcome, details, address, agent, correlation) =>
                    AuditEvent.Restore(id, new DateTimeOffset(ticks, TimeSpan.Zero), actor, actorName ?? "", NonBlank(action), NonBlank(targetType), targetId ?? "",
                        outcome, details, subject, role, address, agent, correlation, null)));

    [Fact]
    public void TheCanonicalBytes_DecodeBackToTheEvent_SoNoTwoEventsShareThem() =>
        Events.Sample(e =>
        {
            var bytes = new ArrayBufferWriter<byte>();
            AuditChain.Encode(bytes, e);
            var reader = new Reader(bytes.WrittenMemory.ToArray());

            Assert.Equal(1, reader.Byte());
            Assert.Equal(e.Id, reader.Int64());
            Assert.Equal(e.OccurredAt.UtcTicks, reader.Int64());
            Assert.Equal(e.ActorId, reader.Guid());
            Assert.Equal(e.ActorName, reader.Text());
            Assert.Equal(e.Action, reader.Text());
            Assert.Equal(e.TargetType, reader.Text());
            Assert.Equal(e.TargetId, reader.Text());
            Assert.Equal(e.SubjectId, reader.Guid());
            Assert.Equal(e.RoleId, reader.Guid());
            Assert.Equal(e.Outcome.ToString(), reader.Text());
            Assert.Equal(e.Details, reader.Text());
            Assert.Equal(e.ClientAddress, reader.Text());
            Assert.Equal(e.UserAgent, reader.Text());
            Assert.Equal(e.CorrelationId, reader.Text());
            Assert.True(reader.AtEnd, "bytes left after the last field");
        }, iter: 10_000);

    private static string AsStored(string text) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));

    private static string NonBlank(string? text) => string.IsNullOrWhiteSpace(text) ? "x" : text;

    /// <summary>The documented format, read back: version, id and ticks big-endian, then null (0) or present (1) fields.</summary>
    private sealed class Reader(byte[] bytes)
    {
        private int at;

        public bool AtEnd => at == bytes.Length;

        public byte Byte() => bytes[at++];

        public long Int64()
        {
            var value = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(at, 8));
            at += 8;
            return value;
        }

        public Guid? Guid()
        {
            if (Byte() == 0)
            {
                return null;
            }

            var text = Encoding.ASCII.GetString(bytes, at, 36);
            at += 36;
            Assert.Equal(text.ToUpperInvariant(), text);
            return System.Guid.Parse(text);
        }

        public string? Text()
        {
            if (Byte() == 0)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at, 4));
            at += 4;
            var text = Encoding.UTF8.GetString(bytes, at, length);
            at += length;
            return text;
        }
    }
}
