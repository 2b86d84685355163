using PimPortal.Core.Domain;

namespace PimPortal.Core.Lifecycle.Alerts;

/// <summary>Raising and resolving an alert for PIM administrators, the one way: the alert with its audit event, staged together.</summary>
public static class AlertRaising
{
    /// <summary>Raises <paramref name="alert"/> (audited); open alert lists and dashboards re-read after commit.</summary>
    public static void Raise(LifecycleContext work, Alert alert)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(alert);
        work.Db.Alerts.Add(alert);
        work.Audit(AuditActions.AlertRaised, "alert", alert.Id.ToString(), AuditOutcome.Success,
            new { kind = alert.Kind.ToString(), alert.Summary, alert.Detail }, alert.PrincipalId, alert.RoleId);
        work.Announce.AlertsChanged();
    }

    /// <summary>
    /// Raises <paramref name="alert"/> (audited) and tells every PIM administrator but <paramref name="except"/>, in the
    /// portal and by mail when configured.
    /// </summary>
    internal static async Task RaiseAndTellAdministratorsAsync(LifecycleContext work, Alert alert, Notifier notifier, CancellationToken cancellationToken, Guid? except = null)
    {
        ArgumentNullException.ThrowIfNull(notifier);
        Raise(work, alert);
        work.Announce.NotificationsOf(await notifier.AdministratorsAsync(work.Db, NotificationKind.Alert, alert.Summary, alert.Detail, "/alerts", cancellationToken, except));
        work.Announce.MailWritten();
    }

    /// <summary>Resolves <paramref name="alert"/> because its condition no longer holds (audited).</summary>
    public static void Resolve(LifecycleContext work, Alert alert, string reason)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(alert);
        alert.Resolve(reason, work.By, work.Now);
        work.Audit(AuditActions.AlertResolved, "alert", alert.Id.ToString(), AuditOutcome.Success,
            new { kind = alert.Kind.ToString(), alert.Summary, reason = alert.Resolution }, alert.PrincipalId, alert.RoleId);
        work.Announce.AlertsChanged();
    }
}
