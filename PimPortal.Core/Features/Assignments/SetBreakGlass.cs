using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Assignments;

/// <summary>
/// A PIM administrator marks a user as a break-glass (emergency access) account, or takes the mark away. Break-glass
/// accounts are kept out of staleness alerts and reviews, and any use of one raises an alert. Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record SetBreakGlass(Guid PrincipalId, bool IsBreakGlass, string? Justification) : ICommand;

public sealed class SetBreakGlassValidator : AbstractValidator<SetBreakGlass>
{
    public SetBreakGlassValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose the account.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class SetBreakGlassHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Notifier notifier, Announcer announcer)
    : ICommandHandler<SetBreakGlass>
{
    public async ValueTask<Unit> Handle(SetBreakGlass command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var principal = await db.Principals.SingleOrDefaultAsync(p => p.Id == command.PrincipalId, cancellationToken)
            ?? throw new NotFoundException("That account is not in the directory.");
        if (SeparationOfDuties.IsOwn(context.Actor.PrincipalId, [], principal.Id))
        {
            throw new ForbiddenException("You cannot mark or unmark your own account as break-glass; ask another PIM administrator.");
        }

        if (principal.IsBreakGlass == command.IsBreakGlass)
        {
            return Unit.Value;
        }

        // The mark allows permanent standing access: it cannot be taken away while that access is there, or the
        // access would stay without the alarm that watches it.
        if (!command.IsBreakGlass && await db.Activations.Where(RoleActivation.Open)
                .AnyAsync(a => a.PrincipalId == principal.Id && a.AssignedBy != null && a.NotAfter == RoleActivation.PermanentEnd, cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} holds a permanent assignment made for a break-glass account; remove it first.");
        }

        var work = context.Begin(db, now);
        var justification = command.Justification?.Trim();
        principal.MarkBreakGlass(command.IsBreakGlass);
        work.Audit(command.IsBreakGlass ? AuditActions.BreakGlassMarked : AuditActions.BreakGlassUnmarked, "principal", principal.Id.ToString(),
            AuditOutcome.Success, new { principal = principal.DisplayName, justification }, principal.Id);

        // Every administrator hears of it: the mark takes an account out of the alerts that would otherwise watch it.
        var summary = command.IsBreakGlass
            ? $"{principal.DisplayName} was marked as a break-glass account by {context.Actor.DisplayName}"
            : $"{principal.DisplayName} is no longer a break-glass account ({context.Actor.DisplayName})";
        var alert = new Alert(Guid.NewGuid(), AlertKind.BreakGlassChanged, $"break-glass-change:{Guid.NewGuid():N}", AlertSeverity.High, summary,
            $"Justification: {justification}. A break-glass account keeps standing access and is left out of staleness and drift alerts; confirm the change was intended.",
            principal.Id, null, null, now) { CausedBy = context.Actor.PrincipalId };
        await AlertRaising.RaiseAndTellAdministratorsAsync(work, alert, notifier, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        announcer.Announce(work.Announce);
        return Unit.Value;
    }
}
