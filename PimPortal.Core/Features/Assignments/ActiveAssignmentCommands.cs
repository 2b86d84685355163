using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Assignments;

/// <summary>
/// A PIM administrator assigns a role active to a user or group from now until <paramref name="End"/> — permanent
/// (null) only where the role's rules allow it, or for a break-glass account. Written to the directory like an
/// activation; audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record AssignActive(Guid PrincipalId, Guid RoleId, DateTimeOffset? End, string? Justification) : ICommand<Guid>;

/// <summary>A PIM administrator ends an active assignment (or any open activation) now; it is removed from the directory. Audited.</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record RemoveActiveAssignment(Guid ActivationId, string? Justification) : ICommand;

/// <summary>
/// A PIM administrator marks a user as a break-glass (emergency access) account, or takes the mark away. Break-glass
/// accounts are kept out of staleness alerts and reviews, and any use of one raises an alert. Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record SetBreakGlass(Guid PrincipalId, bool IsBreakGlass, string? Justification) : ICommand;

public sealed class AssignActiveValidator : AbstractValidator<AssignActive>
{
    public AssignActiveValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose a user or group.");
        RuleFor(x => x.RoleId).NotEmpty().WithMessage("Choose a role.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class RemoveActiveAssignmentValidator : AbstractValidator<RemoveActiveAssignment>
{
    public RemoveActiveAssignmentValidator()
    {
        RuleFor(x => x.ActivationId).NotEmpty().WithMessage("Choose the assignment.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class SetBreakGlassValidator : AbstractValidator<SetBreakGlass>
{
    public SetBreakGlassValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose the account.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

/// <summary>Ending an active assignment (or open activation) now, the one way: by a PIM administrator or by an access review's denial.</summary>
internal static class ActiveAssignmentRemoval
{
    /// <summary>
    /// Revokes it with its audit event and the outbox message that removes it from the directory; lapses extension
    /// requests waiting on it (returns how many). The caller saves, then signals the outbox.
    /// </summary>
    public static async Task<int> RemoveAsync(PimDbContext db, RoleActivation activation, Actor actor, ClientInfo client, object details, DateTimeOffset now, CancellationToken cancellationToken)
    {
        activation.Revoke(actor.IsSystem ? null : actor.PrincipalId, now);
        db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.RemoveGrant, activation.Id, now));
        db.AuditEvents.Add(AuditFactory.Create(actor, client, now, activation.IsAssignment ? AuditActions.ActiveAssignmentRemoved : AuditActions.ActivationRevoked, "activation",
            activation.Id.ToString(), AuditOutcome.Success, details, activation.PrincipalId, activation.RoleId));
        return await Approvals.ApprovedRequests.LapsePendingExtensionsAsync(db, [activation.Id], actor, client, now, cancellationToken);
    }
}

public sealed class ActiveAssignmentCommandHandlers(
    IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, PortalEvents events, JobSignals signals, Notifier notifier)
    : ICommandHandler<AssignActive, Guid>,
      ICommandHandler<RemoveActiveAssignment>,
      ICommandHandler<SetBreakGlass>
{
    public async ValueTask<Guid> Handle(AssignActive command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (principal, role) = await AssignmentRules.LoadTargetAsync(db, context, command.PrincipalId, command.RoleId,
            "is disabled; a disabled account holds nothing.", cancellationToken);
        role.Settings.CheckAssignmentWindow(active: true, now, command.End, principal.IsBreakGlass);
        if (await db.Activations.AnyAsync(a => a.PrincipalId == principal.Id && a.RoleId == role.Id && a.Scope == role.Scope
                && (a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active), cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} holds {role.DisplayName} already.");
        }

        var assignment = RoleActivation.Assigned(Guid.NewGuid(), principal.Id, role.Id, role.Scope, command.End, context.Actor.PrincipalId, now);
        db.Activations.Add(assignment);
        db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, assignment.Id, now));
        db.AuditEvents.Add(context.Audit(now, AuditActions.ActiveAssigned, "activation", assignment.Id.ToString(), AuditOutcome.Success,
            new { principal = AssignmentRules.Describe(principal), role = role.DisplayName, scope = role.Scope, notAfter = command.End, permanent = command.End is null, justification = command.Justification?.Trim() },
            principal.Id, role.Id));
        var notified = await notifier.RoleEventAsync(db, role.Id, RoleNotificationEvent.ActiveAssigned, principal.Id,
            $"{AssignmentRules.Describe(principal)} was assigned {role.DisplayName} active",
            $"{context.Actor.DisplayName} assigned {role.DisplayName} ({role.Scope}) active to {AssignmentRules.Describe(principal)} {(command.End is { } end ? $"until {end:u}" : "permanently")}.\nJustification: {command.Justification?.Trim()}",
            "/", cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            throw new DomainRuleException($"{principal.DisplayName} holds {role.DisplayName} already.");
        }

        signals.Outbox.Set();
        signals.Expiry.Set();
        signals.Mail.Set();
        events.RolesChanged([principal.Id]);
        events.NotificationsChanged(notified);
        return assignment.Id;
    }

    public async ValueTask<Unit> Handle(RemoveActiveAssignment command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var activation = await db.Activations.Include(a => a.Role).SingleOrDefaultAsync(a => a.Id == command.ActivationId, cancellationToken)
            ?? throw new NotFoundException("That assignment does not exist.");
        var lapsed = await ActiveAssignmentRemoval.RemoveAsync(db, activation, context.Actor, context.Client,
            new { role = activation.Role.DisplayName, scope = activation.Scope, reason = "removed by a PIM administrator", justification = command.Justification?.Trim() },
            now, cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("This assignment changed at the same moment (it may have ended); reload to see it.");
        }

        signals.Outbox.Set();
        events.RolesChanged([activation.PrincipalId]);
        if (lapsed > 0)
        {
            events.ApprovalsChanged();
        }

        return Unit.Value;
    }

    public async ValueTask<Unit> Handle(SetBreakGlass command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var principal = await db.Principals.SingleOrDefaultAsync(p => p.Id == command.PrincipalId, cancellationToken)
            ?? throw new NotFoundException("That account is not in the directory.");
        if (principal.Id == context.Actor.PrincipalId)
        {
            throw new ForbiddenException("You cannot mark or unmark your own account as break-glass; ask another PIM administrator.");
        }

        if (principal.IsBreakGlass == command.IsBreakGlass)
        {
            return Unit.Value;
        }

        // The mark allows permanent standing access: it cannot be taken away while that access is there, or the
        // access would stay without the alarm that watches it.
        if (!command.IsBreakGlass && await db.Activations.AnyAsync(a => a.PrincipalId == principal.Id && a.AssignedBy != null && a.NotAfter == RoleActivation.PermanentEnd
                && (a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active), cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} holds a permanent assignment made for a break-glass account; remove it first.");
        }

        principal.MarkBreakGlass(command.IsBreakGlass);
        db.AuditEvents.Add(context.Audit(now, command.IsBreakGlass ? AuditActions.BreakGlassMarked : AuditActions.BreakGlassUnmarked, "principal", principal.Id.ToString(),
            AuditOutcome.Success, new { principal = principal.DisplayName, justification = command.Justification?.Trim() }, principal.Id));

        // Every administrator hears of it: the mark takes an account out of the alerts that would otherwise watch it.
        var summary = command.IsBreakGlass
            ? $"{principal.DisplayName} was marked as a break-glass account by {context.Actor.DisplayName}"
            : $"{principal.DisplayName} is no longer a break-glass account ({context.Actor.DisplayName})";
        var alert = new Alert(Guid.NewGuid(), AlertKind.BreakGlassChanged, $"break-glass-change:{Guid.NewGuid():N}", AlertSeverity.High, summary,
            $"Justification: {command.Justification?.Trim()}. A break-glass account keeps standing access and is left out of staleness and drift alerts; confirm the change was intended.",
            principal.Id, null, null, now);
        db.Alerts.Add(alert);
        db.AuditEvents.Add(context.Audit(now, AuditActions.AlertRaised, "alert", alert.Id.ToString(), AuditOutcome.Success,
            new { kind = alert.Kind.ToString(), alert.Summary }, principal.Id));
        var told = await notifier.AdministratorsAsync(db, NotificationKind.Alert, summary, alert.Detail, "/alerts", cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        signals.Mail.Set();
        events.NotificationsChanged(told);
        events.AlertsChanged();
        return Unit.Value;
    }
}
