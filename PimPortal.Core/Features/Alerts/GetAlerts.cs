using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Alerts;

/// <summary>
/// The alerts for PIM administrators: open ones (most severe first), and with <paramref name="IncludeResolved"/> the
/// latest resolved too. "Assigned outside the portal" (the drift scan's findings) is listed with them.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetAlerts(bool IncludeResolved = false) : IQuery<IReadOnlyList<AlertView>>;

/// <summary>One alert and what can be done about it.</summary>
/// <param name="Remediation">The action the alerts page offers.</param>
public sealed record AlertView(
    Guid Id, AlertKind? Kind, bool IsDrift, AlertSeverity Severity, string Summary, string Detail, Guid? PrincipalId, Guid? RoleId, Guid? SubjectId,
    DateTimeOffset RaisedAt, DateTimeOffset LastSeenAt, int Occurrences, DateTimeOffset? ResolvedAt, string? Resolution, AlertRemediation Remediation);

/// <summary>What the alerts page offers to do about an alert.</summary>
public enum AlertRemediation
{
    /// <summary>Review the role's eligible and active assignments.</summary>
    ReviewAssignments,

    /// <summary>Turn MFA on for the role.</summary>
    RequireMfa,

    /// <summary>Review the role's eligibilities that are not used (the assignments page, filtered to them).</summary>
    ReviewStaleEligibilities,

    /// <summary>Open the role's settings (e.g. a longer maximum duration).</summary>
    ReviewSettings,

    /// <summary>Acknowledge it, saying what was found.</summary>
    Acknowledge,

    /// <summary>Make the holder eligible instead of standing.</summary>
    MakeEligible,

    /// <summary>Remove the active assignment.</summary>
    RemoveAssignment,
}

public sealed class GetAlertsHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<GetAlerts, IReadOnlyList<AlertView>>
{
    public async ValueTask<IReadOnlyList<AlertView>> Handle(GetAlerts query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alerts = await db.Alerts.AsNoTracking()
            .Where(a => a.ResolvedAt == null || query.IncludeResolved)
            .OrderBy(a => a.ResolvedAt != null).ThenByDescending(a => a.RaisedAt)
            .Take(500)
            .ToListAsync(cancellationToken);
        var views = alerts.Select(a => new AlertView(a.Id, a.Kind, false, a.Severity, a.Summary, a.Detail, a.PrincipalId, a.RoleId, a.SubjectId,
            a.RaisedAt, a.LastSeenAt, a.Occurrences, a.ResolvedAt, a.Resolution, RemediationOf(a.Kind))).ToList();

        var drift = await (
                from f in db.DriftFindings.AsNoTracking()
                where f.ResolvedAt == null
                join r in db.PrivilegedRoles on f.RoleId equals r.Id
                join p in db.Principals on f.PrincipalId equals p.Id into principals
                from p in principals.DefaultIfEmpty()
                select new { f, Role = r.DisplayName, Holder = p == null ? f.PrincipalId.ToString() : p.DisplayName })
            .ToListAsync(cancellationToken);
        views.AddRange(drift.Select(d => new AlertView(d.f.Id, null, true, AlertSeverity.High, $"{d.Holder} holds {d.Role} outside the portal",
            $"{d.Holder} holds {d.Role} ({d.f.Scope}) in the directory as a standing assignment the portal did not grant. Make them eligible instead, or document the account as break-glass.",
            d.f.PrincipalId, d.f.RoleId, d.f.Id, d.f.FirstSeenAt, d.f.LastSeenAt, 1, null, null, AlertRemediation.MakeEligible)));
        return [.. views.OrderBy(v => v.ResolvedAt is not null).ThenByDescending(v => v.Severity).ThenByDescending(v => v.RaisedAt)];
    }

    private static AlertRemediation RemediationOf(AlertKind kind) => kind switch
    {
        AlertKind.TooManyGlobalAdministrators => AlertRemediation.ReviewAssignments,
        AlertKind.RoleWithoutMfa => AlertRemediation.RequireMfa,
        AlertKind.StaleEligibility => AlertRemediation.ReviewStaleEligibilities,
        AlertKind.FrequentActivation or AlertKind.UndecidableRequest => AlertRemediation.ReviewSettings,
        AlertKind.PermanentAssignmentNotAllowed => AlertRemediation.RemoveAssignment,
        _ when Alert.IsAcknowledgeable(kind) => AlertRemediation.Acknowledge,
        _ => AlertRemediation.ReviewSettings,
    };
}
