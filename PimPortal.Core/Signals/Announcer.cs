namespace PimPortal.Core.Signals;

/// <summary>After a commit: wakes the workers the change made work for and tells open pages what to re-read.</summary>
public sealed class Announcer(JobSignals signals, PortalEvents events)
{
    public void Announce(Announcements announcements)
    {
        ArgumentNullException.ThrowIfNull(announcements);
        if (announcements.Outbox)
        {
            signals.Outbox.Set();
        }

        if (announcements.Expiry)
        {
            signals.Expiry.Set();
        }

        if (announcements.Mail)
        {
            signals.Mail.Set();
        }

        if (announcements.Reviews)
        {
            signals.Reviews.Set();
        }

        events.RolesChanged(announcements.Roles);
        if (announcements.Approvals)
        {
            events.ApprovalsChanged();
        }

        events.NotificationsChanged(announcements.Notified);
        if (announcements.Alerts)
        {
            events.AlertsChanged();
        }

        if (announcements.ReviewRuns)
        {
            events.ReviewsChanged();
        }
    }
}
