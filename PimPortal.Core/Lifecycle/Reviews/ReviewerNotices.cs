using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>Tells reviewers of an instance what is theirs to decide: when it opens, and the reminder halfway.</summary>
public sealed class ReviewerNotices(Notifier notifier)
{
    /// <summary>
    /// Tells each reviewer of the instance who has lines left how many (in the portal, and by mail when configured):
    /// the users named on lines, and — for lines of the named or fallback reviewers — those users and the members of
    /// those groups. Returns who was told.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> TellAsync(LifecycleContext work, AccessReviewDefinition definition, AccessReviewInstance instance, NotificationKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(instance);
        var db = work.Db;
        var left = db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id && i.Decision == ReviewDecision.None);
        var lines = await left.Where(i => i.ReviewerId != null).GroupBy(i => i.ReviewerId!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var shared = await left.CountAsync(i => i.ReviewerId == null, cancellationToken);
        if (shared > 0)
        {
            foreach (var reviewer in await ReviewerRules.ListReviewersAsync(db, definition.Id, cancellationToken))
            {
                lines[reviewer] = lines.GetValueOrDefault(reviewer) + shared;
            }
        }

        var recipients = await db.Principals.AsNoTracking().Where(p => p.IsEnabled && p.Kind == PrincipalKind.User)
            .Where(p => lines.Keys.Contains(p.Id)).Select(p => p.Id).ToListAsync(cancellationToken);
        var link = $"/my-reviews/{instance.Id}";
        foreach (var reviewer in recipients)
        {
            var count = lines[reviewer];
            var (subject, body) = kind == NotificationKind.ReviewReminder
                ? ($"Reminder: {count} access review {(count == 1 ? "line" : "lines")} left in “{definition.Name}”",
                    $"The access review “{definition.Name}” ends {instance.EndsAt:u}. You have {count} {(count == 1 ? "line" : "lines")} left to decide; what is not decided by then gets the review's default decision ({Describe(definition.DefaultDecision)}).")
                : ($"Access review “{definition.Name}”: {count} {(count == 1 ? "line" : "lines")} to decide",
                    $"The access review “{definition.Name}” is open until {instance.EndsAt:u}. Decide for each line whether the access is still needed: approve, deny or don't know.");
            await notifier.NotifyAsync(db, reviewer, kind, subject, body, link, cancellationToken);
        }

        work.Announce.NotificationsOf(recipients);
        return recipients;
    }

    internal static string Describe(ReviewDefaultDecision decision) => decision switch
    {
        ReviewDefaultDecision.Approve => "approve",
        ReviewDefaultDecision.Remove => "remove",
        ReviewDefaultDecision.Recommendation => "take the recommendation",
        _ => "no change",
    };
}
