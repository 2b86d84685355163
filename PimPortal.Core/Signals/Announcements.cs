namespace PimPortal.Core.Signals;

/// <summary>
/// What one unit of work changed that others should hear of once it has committed: which workers to wake and which
/// open pages to re-read. Collected while the work is staged, announced by <see cref="Announcer"/> after the commit —
/// never before, so nobody reads a change that then rolls back.
/// </summary>
public sealed class Announcements
{
    private readonly HashSet<Guid> _roles = [];
    private readonly HashSet<Guid> _notified = [];
    private readonly HashSet<Guid> _bells = [];

    /// <summary>Directory work was recorded in the outbox.</summary>
    public bool Outbox { get; private set; }

    /// <summary>Something now ends at a new time (or must end now): the expiry worker looks again.</summary>
    public bool Expiry { get; private set; }

    /// <summary>Notifications to mail were written.</summary>
    public bool Mail { get; private set; }

    /// <summary>Access review work was made (a review to open, results to apply).</summary>
    public bool Reviews { get; private set; }

    public bool Approvals { get; private set; }

    public bool Alerts { get; private set; }

    /// <summary>An access review's runs changed (opened, decided, closed, applying, applied).</summary>
    public bool ReviewRuns { get; private set; }

    /// <summary>Principals whose eligibilities, activations or requests changed.</summary>
    public IReadOnlyCollection<Guid> Roles => _roles;

    /// <summary>Principals with new (or retired) notifications.</summary>
    public IReadOnlyCollection<Guid> Notified => [.. _notified.Union(_bells)];

    public void WakeOutbox() => Outbox = true;

    public void WakeExpiry() => Expiry = true;

    public void WakeReviews() => Reviews = true;

    public void RolesOf(IEnumerable<Guid> principals) => _roles.UnionWith(principals);

    public void RolesOf(Guid principal) => _roles.Add(principal);

    /// <summary>The approvers' queues changed: a request was made, decided, cancelled, lapsed or expired.</summary>
    public void ApprovalsChanged() => Approvals = true;

    public void AlertsChanged() => Alerts = true;

    public void ReviewRunsChanged() => ReviewRuns = true;

    /// <summary>Notifications were written for <paramref name="principals"/> (and, where mail is on, are to be mailed).</summary>
    public void NotificationsOf(IEnumerable<Guid> principals)
    {
        _notified.UnionWith(principals);
        Mail |= _notified.Count > 0;
    }

    /// <summary>Notifications were written that only mail carries (addresses without a bell).</summary>
    public void MailWritten() => Mail = true;

    /// <summary>Bells changed without new mail (notifications marked read).</summary>
    public void BellsOf(IEnumerable<Guid> principals) => _bells.UnionWith(principals);
}
