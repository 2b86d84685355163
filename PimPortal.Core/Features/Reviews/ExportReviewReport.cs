using System.Globalization;
using System.Text;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Audit;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>
/// Writes an instance's report as CSV (RFC 4180) to <paramref name="Output"/>, streamed: every line with its
/// recommendation, decision, reviewer, reason and what applying it did (a reason typed like a spreadsheet formula is
/// prefixed with an apostrophe). Audited. Returns how many lines were written.
/// </summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record ExportReviewReport(Guid InstanceId, Stream Output) : ICommand<long>;

public sealed class ExportReviewReportHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time) : ICommandHandler<ExportReviewReport, long>
{
    private static readonly string[] Columns =
    [
        "principal", "principalId", "assignment", "role", "roleId", "scope", "reviewer", "lastActivation", "activationsInWindow", "recommendation",
        "recommendationReason", "flags", "decision", "decidedBy", "decidedAt", "reason", "appliedAt", "outcome",
    ];

    public async ValueTask<long> Handle(ExportReviewReport command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command.Output);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.AsNoTracking().Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == command.InstanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        var rows =
            from i in db.AccessReviewItems.AsNoTracking()
            where i.InstanceId == instance.Id
            join p in db.Principals on i.ReviewerId equals (Guid?)p.Id into reviewers
            from p in reviewers.DefaultIfEmpty()
            orderby i.PrincipalName, i.Id
            select new { i, Reviewer = p == null ? null : p.DisplayName };

        long written = 0;
        var writer = new StreamWriter(command.Output, new UTF8Encoding(false), bufferSize: 1 << 16, leaveOpen: true) { NewLine = "\r\n" };
        await using (writer)
        {
            await writer.WriteAsync(string.Join(",", Columns) + "\r\n");
            var fields = new string?[Columns.Length];
            var line = new StringBuilder(512);
            var lineWriter = new StringWriter(line, CultureInfo.InvariantCulture);
            await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                var i = row.i;
                fields[0] = i.PrincipalName;
                fields[1] = i.PrincipalId.ToString();
                fields[2] = i.Kind.ToString();
                fields[3] = i.RoleName;
                fields[4] = i.RoleId.ToString();
                fields[5] = i.Scope;
                fields[6] = row.Reviewer ?? (i.ReviewerId is null ? "(reviewer list)" : i.ReviewerId.ToString());
                fields[7] = Time(i.LastActivation);
                fields[8] = i.ActivationCount.ToString(CultureInfo.InvariantCulture);
                fields[9] = i.Recommendation.ToString();
                fields[10] = i.RecommendationReason;
                fields[11] = i.Flags == ReviewItemFlags.None ? null : i.Flags.ToString();
                fields[12] = i.Decision == ReviewDecision.None ? "NotReviewed" : i.Decision.ToString();
                fields[13] = i.DecidedByName;
                fields[14] = Time(i.DecidedAt);
                fields[15] = i.Reason;
                fields[16] = Time(i.AppliedAt);
                fields[17] = i.Outcome;
                line.Clear();
                ExportAuditHandler.WriteCsvRow(lineWriter, fields, neutralizeFormulas: true);
                await writer.WriteAsync(line, cancellationToken);
                written++;
            }
        }

        db.AuditEvents.Add(context.Audit(time.GetUtcNow(), AuditActions.ReviewReportExported, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
            new { review = instance.Definition.Name, run = instance.Run + 1, rows = written }));
        await db.SaveChangesAsync(CancellationToken.None);
        return written;
    }

    private static string? Time(DateTimeOffset? value) =>
        value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
