namespace PimPortal.Core.Signals;

/// <summary>Something of <paramref name="PrincipalId"/> changed (<see cref="Guid.Empty"/> for everyone's news).</summary>
public sealed record PortalEvent(Guid PrincipalId, PortalEventKind Kind = PortalEventKind.RolesChanged);

/// <summary>What a <see cref="PortalEvent"/> is about.</summary>
public enum PortalEventKind
{
    /// <summary>The principal's eligibilities, activations or requests.</summary>
    RolesChanged,

    /// <summary>Pending requests: one was made, decided, cancelled or expired.</summary>
    ApprovalsChanged,

    /// <summary>The principal has new notifications.</summary>
    NotificationsChanged,

    /// <summary>Alerts for PIM administrators changed.</summary>
    AlertsChanged,

    /// <summary>Access review runs changed: opened, closed, applying (with its progress), applied.</summary>
    ReviewsChanged,
}
