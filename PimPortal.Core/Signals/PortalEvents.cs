namespace PimPortal.Core.Signals;

/// <summary>
/// In-process news for open pages: a principal's roles or requests changed, the approvers' queue changed, or a
/// principal has new notifications — so re-read.
/// </summary>
public sealed class PortalEvents
{
    public event Action<PortalEvent>? Raised;

    public void Publish(PortalEvent portalEvent)
    {
        var handlers = Raised;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<PortalEvent>>())
        {
            try
            {
                handler(portalEvent);
            }
#pragma warning disable CA1031 // A broken subscriber (a closed circuit) must not stop the others or the publisher.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    public void RolesChanged(IEnumerable<Guid> principalIds)
    {
        foreach (var id in principalIds.Distinct())
        {
            Publish(new PortalEvent(id));
        }
    }

    /// <summary>A request was made, decided, cancelled or expired: every open approvers' queue re-reads.</summary>
    public void ApprovalsChanged() => Publish(new PortalEvent(Guid.Empty, PortalEventKind.ApprovalsChanged));

    /// <summary>An alert was raised, seen again or resolved: open alert lists and dashboards re-read.</summary>
    public void AlertsChanged() => Publish(new PortalEvent(Guid.Empty, PortalEventKind.AlertsChanged));

    /// <summary>An access review's runs changed (opened, decided, closed, applying, applied): open review pages re-read.</summary>
    public void ReviewsChanged() => Publish(new PortalEvent(Guid.Empty, PortalEventKind.ReviewsChanged));

    public void NotificationsChanged(IEnumerable<Guid> principalIds)
    {
        foreach (var id in principalIds.Distinct())
        {
            Publish(new PortalEvent(id, PortalEventKind.NotificationsChanged));
        }
    }
}
