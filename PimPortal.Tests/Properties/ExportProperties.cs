using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using CsvHelper;
using CsvHelper.Configuration;
using PimPortal.Core.Features.Audit;

namespace PimPortal.Tests.Properties;

/// <summary>
/// The exports over generated rows, read back by an independent reader (CsvHelper for CSV, System.Text.Json for JSON
/// lines): any text survives the round trip — commas, quotes, CR and LF inside a field, NULs, accents, characters
/// outside the BMP — and in the review report (a file people open in a spreadsheet) no field can start like a formula.
/// 10,000 rows each.
/// </summary>
public sealed class ExportProperties
{
    private const int Cases = 10_000;

    private static readonly string[] Pieces = ["a", " ", ",", "\"", "\r", "\n", "\r\n", "=", "+", "-", "@", "\t", "'", "\u0000", "\u00e9", "\ud83d\ude00", "=1+1", "=HYPERLINK(\"x\")"];

    // Text as the database holds it (well-formed Unicode: a lone surrogate half is U+FFFD by the time it is stored),
    // mixed with the pieces a CSV writer must get right.
    private static readonly Gen<string?> Text = Gen.Frequency(
        (1, Gen.Const<string?>(() => null)),
        (1, Gen.Const<string?>("")),
        (3, Gen.String.Select(s => (string?)Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s)))),
        (5, Gen.Int[0, Pieces.Length - 1].Select(i => Pieces[i]).Array[1, 8].Select(parts => (string?)string.Concat(parts))));

    // At least two fields: a lone empty field would be a blank line, which no export writes (they have 16 and 18 columns).
    private static readonly Gen<string?[]> Rows = Text.Array[2, 20];

    [Fact]
    public void AnyRow_SurvivesTheCsvRoundTrip()
    {
        var hard = 0;
        Rows.Sample(fields =>
        {
            var read = ReadCsv(WriteCsv(fields, neutralizeFormulas: false));

            Assert.Equal(fields.Select(f => f ?? ""), read);
            if (fields.Any(f => f is not null && f.AsSpan().IndexOfAny(",\"\r\n") >= 0))
            {
                Interlocked.Increment(ref hard);
            }
        }, iter: Cases);

        Assert.True(hard > Cases / 2, $"only {hard} of {Cases} rows needed quoting: the generator says little");
    }

    [Fact]
    public void InTheReviewReport_NoFieldStartsLikeAFormula_AndTheTextIsKeptBehindTheApostrophe()
    {
        var neutralized = 0;
        Rows.Sample(fields =>
        {
            var read = ReadCsv(WriteCsv(fields, neutralizeFormulas: true));

            Assert.Equal(fields.Length, read.Length);
            for (var i = 0; i < fields.Length; i++)
            {
                var original = fields[i] ?? "";
                Assert.False(read[i].Length > 0 && read[i][0] is '=' or '+' or '-' or '@' or '\t' or '\r', $"field {i} starts like a formula: {read[i]}");
                if (original.Length > 0 && original[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
                {
                    Assert.Equal("'" + original, read[i]);
                    Interlocked.Increment(ref neutralized);
                }
                else
                {
                    Assert.Equal(original, read[i]);
                }
            }
        }, iter: Cases);

        Assert.True(neutralized > Cases / 2, $"only {neutralized} formulas in {Cases} rows: the generator says little");
    }

    [Fact]
    public void AnyAuditRow_SurvivesTheJsonLineRoundTrip() =>
        Gen.Select(Gen.Long[1, long.MaxValue], Text.Array[ExportAuditHandler.Columns.Count - 2], Gen.Frequency(
                (1, Gen.Const<string?>(() => null)),
                (2, Text.Select(t => (string?)JsonSerializer.Serialize(new { reason = t, nested = new[] { t } })))))
            .Sample((id, middle, details) =>
            {
                string?[] fields = [id.ToString(CultureInfo.InvariantCulture), .. middle, details];
                var line = new StringWriter(CultureInfo.InvariantCulture);

                ExportAuditHandler.WriteJsonLine(line, fields);

                var text = line.ToString();
                Assert.EndsWith("\n", text, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', text[..^1]);
                using var json = JsonDocument.Parse(text);
                var properties = json.RootElement.EnumerateObject().ToArray();
                Assert.Equal(ExportAuditHandler.Columns, properties.Select(p => p.Name));
                Assert.Equal(id, properties[0].Value.GetInt64());
                for (var i = 1; i < fields.Length - 1; i++)
                {
                    Assert.Equal(fields[i], properties[i].Value.ValueKind == JsonValueKind.Null ? null : properties[i].Value.GetString());
                }

                var last = properties[^1].Value;
                if (details is null)
                {
                    Assert.Equal(JsonValueKind.Null, last.ValueKind);
                }
                else
                {
                    Assert.Equal(JsonValueKind.Object, last.ValueKind);
                    Assert.Equal(JsonSerializer.Deserialize<JsonElement>(details).GetProperty("reason").GetString(), last.GetProperty("reason").GetString());
                }
            }, iter: Cases);

    private static string WriteCsv(string?[] fields, bool neutralizeFormulas)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        ExportAuditHandler.WriteCsvRow(text, fields, neutralizeFormulas);
        return text.ToString();
    }

    private static string[] ReadCsv(string text)
    {
        using var csv = new CsvReader(new StringReader(text), new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            HasHeaderRecord = false,
            Mode = CsvMode.RFC4180,
            BadDataFound = args => throw new InvalidOperationException($"not RFC 4180: {args.RawRecord}"),
        });
        Assert.True(csv.Read(), "no record");
        var record = csv.Parser.Record ?? [];
        Assert.False(csv.Read(), "one row became two records");
        return record;
    }
}
