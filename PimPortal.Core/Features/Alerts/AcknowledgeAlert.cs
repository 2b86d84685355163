using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Alerts;

/// <summary>
/// A PIM administrator acknowledges a break-glass use, a break-glass mark, a change to a protected role or a
/// credential reset (it stays resolved with their note; a later one raises a new alert). Alerts that follow a
/// condition resolve themselves when it is remedied, and cannot be acknowledged away.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record AcknowledgeAlert(Guid AlertId, string? Note) : ICommand;

public sealed class AcknowledgeAlertValidator : AbstractValidator<AcknowledgeAlert>
{
    public AcknowledgeAlertValidator()
    {
        RuleFor(x => x.AlertId).NotEmpty().WithMessage("Choose the alert.");
        RuleFor(x => x.Note).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Say what you found (who used it and why); it is kept in the audit trail.")
            .MaximumLength(500).WithMessage("At most 500 characters.");
    }
}

public sealed class AcknowledgeAlertHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Announcer announcer) : ICommandHandler<AcknowledgeAlert>
{
    public async ValueTask<Unit> Handle(AcknowledgeAlert command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alert = await db.Alerts.SingleOrDefaultAsync(a => a.Id == command.AlertId, cancellationToken)
            ?? throw new NotFoundException("That alert does not exist.");
        if (!Alert.IsAcknowledgeable(alert.Kind))
        {
            throw new DomainRuleException("This alert resolves itself once its cause is remedied; use its action instead.");
        }

        // Nobody explains away their own use (or mark, or change, or reset — neither its author nor the account it is
        // about), and a break-glass account acknowledges no break-glass alert.
        var me = context.Actor.PrincipalId;
        if (alert.Involves(me) || await db.Principals.AnyAsync(p => p.Id == me && p.IsBreakGlass, cancellationToken))
        {
            throw new ForbiddenException("You cannot acknowledge an alert about your own account, or as a break-glass account; ask another PIM administrator.");
        }

        var work = context.Begin(db, now);
        alert.Resolve($"acknowledged by {context.Actor.DisplayName}: {command.Note!.Trim()}", context.Actor.PrincipalId, now);
        work.Audit(AuditActions.AlertDismissed, "alert", alert.Id.ToString(), AuditOutcome.Success,
            new { kind = alert.Kind.ToString(), alert.Summary, note = command.Note.Trim() }, alert.PrincipalId, alert.RoleId);
        work.Announce.AlertsChanged();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("The account was used again (or someone acknowledged it) at the same moment; reload and look again.");
        }

        announcer.Announce(work.Announce);
        return Unit.Value;
    }
}
