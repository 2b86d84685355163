using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>Halfway through an instance of a definition with reminders, tells each reviewer who still has lines how many (once).</summary>
public sealed class ReviewReminders(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, ReviewerNotices notices, Announcer announcer)
{
    /// <summary>Reminds every instance whose reminder is due; returns how many this call reminded.</summary>
    public async Task<int> RemindAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        List<Guid> due;
        await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            due = [.. (await read.AccessReviewInstances.AsNoTracking()
                    .Where(i => i.Status == ReviewInstanceStatus.Active && i.ReminderSentAt == null && i.EndsAt > now && i.Definition.Reminders)
                    .ToListAsync(cancellationToken))
                .Where(i => i.ReminderDueAt <= now).Select(i => i.Id)];
        }

        var sent = 0;
        foreach (var id in due)
        {
            // One context per instance: a conflict on one (another portal instance reminded it) leaves the others alone.
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var instance = await db.AccessReviewInstances.Include(i => i.Definition).SingleAsync(i => i.Id == id, cancellationToken);
            if (instance.Status != ReviewInstanceStatus.Active || instance.ReminderSentAt is not null)
            {
                continue;
            }

            var work = LifecycleContext.System(db, now);
            instance.Reminded(now);
            var told = await notices.TellAsync(work, instance.Definition, instance, NotificationKind.ReviewReminder, cancellationToken);
            work.Audit(AuditActions.ReviewReminded, "review-instance", instance.Id.ToString(), AuditOutcome.Success,
                new { review = instance.Definition.Name, run = instance.Run + 1, reviewers = told.Count });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Another portal instance reminded (or closed) it at the same moment.
                continue;
            }

            sent++;
            announcer.Announce(work.Announce);
        }

        return sent;
    }
}
