using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Tells each eligible principal (a group: its members) once when its eligibility ends within the notice period,
/// and records (audits) each eligibility's end when it has passed. Activations made from an ended eligibility are
/// revoked by the expiry worker.
/// </summary>
public sealed class EligibilityNotices(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, IOptions<PimOptions> options, Notifier notifier, Announcer announcer)
{
    /// <summary>One pass; returns how many notices were sent and ends recorded.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        var now = time.GetUtcNow();
        var noticeFrom = now + options.Value.Alerts.EligibilityNotice;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var work = LifecycleContext.System(db, now);
        var ending = await db.Eligibilities.Include(e => e.Role)
            .Where(e => e.RemovedAt == null && e.NotAfter != null && e.NotAfter > now && e.NotAfter <= noticeFrom && e.EndingNoticeSentAt == null)
            .OrderBy(e => e.NotAfter)
            .Take(500)
            .ToListAsync(cancellationToken);
        foreach (var eligibility in ending)
        {
            eligibility.NoticeSent(now);
            var recipients = await db.Principals.AsNoTracking().Where(p => p.Id == eligibility.PrincipalId && p.Kind == PrincipalKind.User && p.IsEnabled).Select(p => p.Id)
                .Concat(db.GroupMemberships.Where(m => m.GroupId == eligibility.PrincipalId).Select(m => m.MemberId))
                .ToListAsync(cancellationToken);
            foreach (var recipient in recipients)
            {
                await notifier.NotifyAsync(db, recipient, NotificationKind.EligibilityEnding, $"Your eligibility for {eligibility.Role.DisplayName} ends {eligibility.NotAfter:yyyy-MM-dd}",
                    $"Your eligibility for {eligibility.Role.DisplayName} ({eligibility.Scope}) ends at {eligibility.NotAfter:u}. Ask a PIM administrator to extend it if you still need it.",
                    "/", cancellationToken);
            }

            work.Announce.NotificationsOf(recipients);
            work.Audit(AuditActions.EligibilityEndingNotice, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                new { role = eligibility.Role.DisplayName, notAfter = eligibility.NotAfter, told = recipients.Count }, eligibility.PrincipalId, eligibility.RoleId);
        }

        var ended = await db.Eligibilities.Include(e => e.Role)
            .Where(e => e.RemovedAt == null && e.NotAfter != null && e.NotAfter <= now && e.EndRecordedAt == null)
            .OrderBy(e => e.NotAfter)
            .Take(500)
            .ToListAsync(cancellationToken);
        EligibilityEnds.Record(work, ended);

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another instance did this pass at the same moment.
            return 0;
        }

        announcer.Announce(work.Announce);
        return ending.Count + ended.Count;
    }
}
