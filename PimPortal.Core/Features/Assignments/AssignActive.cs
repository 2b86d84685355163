using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
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

public sealed class AssignActiveValidator : AbstractValidator<AssignActive>
{
    public AssignActiveValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose a user or group.");
        RuleFor(x => x.RoleId).NotEmpty().WithMessage("Choose a role.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class AssignActiveHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Grants grants, Announcer announcer)
    : ICommandHandler<AssignActive, Guid>
{
    public async ValueTask<Guid> Handle(AssignActive command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (principal, role) = await AssignmentRules.LoadTargetAsync(db, context, command.PrincipalId, command.RoleId,
            "is disabled; a disabled account holds nothing.", cancellationToken);
        role.Settings.CheckAssignmentWindow(active: true, now, command.End, principal.IsBreakGlass);
        if (await db.Activations.Where(RoleActivation.Open).AnyAsync(a => a.PrincipalId == principal.Id && a.RoleId == role.Id && a.Scope == role.Scope, cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} holds {role.DisplayName} already.");
        }

        var work = context.Begin(db, now);
        var assignment = await grants.AssignAsync(work, principal, role, command.End, command.Justification?.Trim(), cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            throw new DomainRuleException($"{principal.DisplayName} holds {role.DisplayName} already.");
        }

        announcer.Announce(work.Announce);
        return assignment.Id;
    }
}
