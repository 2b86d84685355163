using System.Globalization;
using System.Text;
using System.Text.Json;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

/// <summary>
/// Writes the events <paramref name="Filter"/> selects to <paramref name="Output"/>, oldest first, streamed (no row
/// limit, nothing held in memory): CSV as RFC 4180 says (a header, CRLF, fields quoted when they need it), or one JSON
/// object per line. The export itself is audited (who exported what). Returns how many events were written.
/// </summary>
[RequirePermission(PortalPermissions.Auditor, PortalPermissions.PimAdministrator)]
public sealed record ExportAudit(AuditFilter Filter, AuditExportFormat Format, Stream Output) : ICommand<long>;

public enum AuditExportFormat
{
    Csv,
    JsonLines,
}

public sealed class ExportAuditHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time) : ICommandHandler<ExportAudit, long>
{
    internal static readonly IReadOnlyList<string> Columns =
        ["id", "occurredAt", "actor", "actorId", "action", "targetType", "targetId", "subject", "subjectId", "role", "roleId", "outcome", "clientAddress", "userAgent", "correlationId", "details"];

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public async ValueTask<long> Handle(ExportAudit command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command.Output);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var filtered = await SearchAuditHandler.FilteredAsync(db, command.Filter, cancellationToken);
        var rows =
            from e in filtered
            join p in db.Principals on e.SubjectId equals (Guid?)p.Id into subjects
            from p in subjects.DefaultIfEmpty()
            join r in db.PrivilegedRoles on e.RoleId equals (Guid?)r.Id into roles
            from r in roles.DefaultIfEmpty()
            orderby e.Id
            select new { e, Subject = p == null ? null : p.DisplayName, Role = r == null ? null : r.DisplayName };

        long written = 0;
        var writer = new StreamWriter(command.Output, Utf8, bufferSize: 1 << 16, leaveOpen: true) { NewLine = "\r\n" };
        await using (writer)
        {
            if (command.Format == AuditExportFormat.Csv)
            {
                await writer.WriteAsync(string.Join(",", Columns) + "\r\n");
            }

            var fields = new string?[Columns.Count];

            // Each row is composed in memory, then written asynchronously: a response body refuses synchronous writes.
            var line = new StringBuilder(1024);
            var lineWriter = new StringWriter(line, CultureInfo.InvariantCulture);
            await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                var e = row.e;
                fields[0] = e.Id.ToString(CultureInfo.InvariantCulture);
                fields[1] = e.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
                fields[2] = e.ActorName;
                fields[3] = e.ActorId?.ToString();
                fields[4] = e.Action;
                fields[5] = e.TargetType;
                fields[6] = e.TargetId;
                fields[7] = row.Subject;
                fields[8] = e.SubjectId?.ToString();
                fields[9] = row.Role;
                fields[10] = e.RoleId?.ToString();
                fields[11] = e.Outcome.ToString();
                fields[12] = e.ClientAddress;
                fields[13] = e.UserAgent;
                fields[14] = e.CorrelationId;
                fields[15] = e.Details;
                line.Clear();
                if (command.Format == AuditExportFormat.Csv)
                {
                    WriteCsvRow(lineWriter, fields);
                }
                else
                {
                    WriteJsonLine(lineWriter, fields);
                }

                await writer.WriteAsync(line, cancellationToken);
                written++;
            }
        }

        db.AuditEvents.Add(context.Audit(time.GetUtcNow(), AuditActions.AuditExported, "audit", command.Format.ToString(), AuditOutcome.Success,
            new { format = command.Format.ToString(), filter = command.Filter, rows = written }));
        await db.SaveChangesAsync(CancellationToken.None);
        return written;
    }

    /// <summary>
    /// One CSV record (RFC 4180): a field with a comma, quote, CR or LF is quoted, its quotes doubled. With
    /// <paramref name="neutralizeFormulas"/> (a report people open in a spreadsheet), a field someone typed that starts
    /// like a formula (<c>= + - @</c>, tab, CR) is prefixed with an apostrophe, so the spreadsheet shows it as text.
    /// </summary>
    internal static void WriteCsvRow(TextWriter writer, IReadOnlyList<string?> fields, bool neutralizeFormulas = false)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                writer.Write(',');
            }

            var field = fields[i];
            if (string.IsNullOrEmpty(field))
            {
                continue;
            }

            if (neutralizeFormulas && field[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                field = "'" + field;
            }

            if (field.AsSpan().IndexOfAny(",\"\r\n") < 0)
            {
                writer.Write(field);
            }
            else
            {
                writer.Write('"');
                writer.Write(field.Replace("\"", "\"\"", StringComparison.Ordinal));
                writer.Write('"');
            }
        }

        writer.Write("\r\n");
    }

    /// <summary>
    /// One JSON object on a line of its own: the id a number, the details (JSON already) an object, every other field a
    /// string or null, named as the CSV columns are.
    /// </summary>
    internal static void WriteJsonLine(TextWriter writer, IReadOnlyList<string?> fields)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            for (var i = 0; i < Columns.Count; i++)
            {
                if (i == 15 && fields[i] is { } details)
                {
                    // The details are JSON already: kept as an object, not a string.
                    json.WritePropertyName(Columns[i]);
                    json.WriteRawValue(details, skipInputValidation: false);
                }
                else if (i == 0)
                {
                    json.WriteNumber(Columns[i], long.Parse(fields[i]!, CultureInfo.InvariantCulture));
                }
                else
                {
                    json.WriteString(Columns[i], fields[i]);
                }
            }

            json.WriteEndObject();
        }

        writer.Write(Utf8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        writer.Write('\n');
    }
}
