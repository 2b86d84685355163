using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Carries changes made by other portal instances on the same database to this instance's open pages: it reads the
/// audit events and notifications written since the last look and raises the same <see cref="PortalEvents"/> the
/// commands raise in-process. Every change writes an audit event, so none is missed; a change made here is seen twice
/// (one more re-read of the page, nothing else). Refusals change nothing, so they are not carried. The window is in
/// the instances' own clocks: keep them in step (NTP); a skew under <see cref="Overlap"/> loses nothing.
/// </summary>
public sealed class ChangeFeedProcessor(IDbContextFactory<PimDbContext> dbFactory, PortalEvents events, TimeProvider time)
{
    /// <summary>How far back each look reaches: transactions commit out of id order, so a slow one is still seen.</summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromSeconds(10);

    private readonly Dictionary<long, DateTimeOffset> _seenEvents = [];
    private readonly Dictionary<Guid, DateTimeOffset> _seenNotifications = [];
    private DateTimeOffset? _since;

    /// <summary>Starts from now: what happened before this instance started is already on its pages' first read.</summary>
    public void Start() => _since = time.GetUtcNow();

    /// <summary>Raises events for what other instances changed since the last look; returns how many changes it saw.</summary>
    public async Task<int> PollAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = (_since ??= now) - Overlap;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changes = await db.AuditEvents.AsNoTracking()
            .Where(e => e.OccurredAt >= since)
            .Where(e => e.Outcome != AuditOutcome.Refused)
            .Select(e => new { e.Id, e.OccurredAt, e.Action, e.SubjectId, e.TargetType })
            .ToListAsync(cancellationToken);
        var notifications = await db.Notifications.AsNoTracking()
            .Where(n => n.CreatedAt >= since)
            .Select(n => new { n.Id, n.CreatedAt, n.RecipientId })
            .ToListAsync(cancellationToken);

        var fresh = changes.Where(c => _seenEvents.TryAdd(c.Id, c.OccurredAt)).ToList();
        var freshNotifications = notifications.Where(n => _seenNotifications.TryAdd(n.Id, n.CreatedAt)).ToList();
        events.RolesChanged(fresh.Where(c => c.SubjectId is not null).Select(c => c.SubjectId!.Value));
        if (fresh.Exists(c => c.TargetType == "request"))
        {
            events.ApprovalsChanged();
        }

        events.NotificationsChanged(freshNotifications.Where(n => n.RecipientId != null).Select(n => n.RecipientId!.Value));

        // Forget what fell out of the window.
        foreach (var old in _seenEvents.Where(e => e.Value < since).Select(e => e.Key).ToList())
        {
            _seenEvents.Remove(old);
        }

        foreach (var old in _seenNotifications.Where(n => n.Value < since).Select(n => n.Key).ToList())
        {
            _seenNotifications.Remove(old);
        }

        _since = now;
        return fresh.Count + freshNotifications.Count;
    }
}
