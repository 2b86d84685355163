using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

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

/// <summary>
/// A PIM administrator acknowledges a break-glass use (it stays resolved with their note; a later use raises a new
/// one). Alerts that follow a condition resolve themselves when it is remedied, and cannot be acknowledged away.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record AcknowledgeAlert(Guid AlertId, string? Note) : ICommand;

/// <summary>Evaluates the alerts now instead of at the next interval (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record EvaluateAlertsNow : ICommand<int>;

public sealed class AcknowledgeAlertValidator : AbstractValidator<AcknowledgeAlert>
{
    public AcknowledgeAlertValidator()
    {
        RuleFor(x => x.AlertId).NotEmpty().WithMessage("Choose the alert.");
        RuleFor(x => x.Note).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Say what you found (who used it and why); it is kept in the audit trail.")
            .MaximumLength(500).WithMessage("At most 500 characters.");
    }
}

public sealed class AlertHandlers(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, PortalEvents events, AlertEvaluator evaluator)
    : IQueryHandler<GetAlerts, IReadOnlyList<AlertView>>,
      ICommandHandler<AcknowledgeAlert>,
      ICommandHandler<EvaluateAlertsNow, int>
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

    public async ValueTask<Unit> Handle(AcknowledgeAlert command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alert = await db.Alerts.SingleOrDefaultAsync(a => a.Id == command.AlertId, cancellationToken)
            ?? throw new NotFoundException("That alert does not exist.");
        if (alert.Kind is not (AlertKind.BreakGlassUsed or AlertKind.BreakGlassChanged))
        {
            throw new DomainRuleException("This alert resolves itself once its cause is remedied; use its action instead.");
        }

        // Nobody explains away their own use (or mark), and a break-glass account acknowledges no break-glass alert.
        var me = context.Actor.PrincipalId;
        if (alert.PrincipalId == me || await db.Principals.AnyAsync(p => p.Id == me && p.IsBreakGlass, cancellationToken))
        {
            throw new ForbiddenException("You cannot acknowledge an alert about your own account, or as a break-glass account; ask another PIM administrator.");
        }

        alert.Resolve($"acknowledged by {context.Actor.DisplayName}: {command.Note!.Trim()}", context.Actor.PrincipalId, now);
        db.AuditEvents.Add(context.Audit(now, AuditActions.AlertDismissed, "alert", alert.Id.ToString(), AuditOutcome.Success,
            new { kind = alert.Kind.ToString(), alert.Summary, note = command.Note.Trim() }, alert.PrincipalId, alert.RoleId));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("The account was used again (or someone acknowledged it) at the same moment; reload and look again.");
        }

        events.AlertsChanged();
        return Unit.Value;
    }

    public async ValueTask<int> Handle(EvaluateAlertsNow command, CancellationToken cancellationToken) => await evaluator.EvaluateAsync(cancellationToken);

    private static AlertRemediation RemediationOf(AlertKind kind) => kind switch
    {
        AlertKind.TooManyGlobalAdministrators => AlertRemediation.ReviewAssignments,
        AlertKind.RoleWithoutMfa => AlertRemediation.RequireMfa,
        AlertKind.StaleEligibility => AlertRemediation.ReviewStaleEligibilities,
        AlertKind.FrequentActivation => AlertRemediation.ReviewSettings,
        AlertKind.PermanentAssignmentNotAllowed => AlertRemediation.RemoveAssignment,
        _ => AlertRemediation.Acknowledge,
    };
}
