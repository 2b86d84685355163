using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Assignments;

/// <summary>A PIM administrator ends an active assignment (or any open activation) now; it is removed from the directory. Audited.</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record RemoveActiveAssignment(Guid ActivationId, string? Justification) : ICommand;

public sealed class RemoveActiveAssignmentValidator : AbstractValidator<RemoveActiveAssignment>
{
    public RemoveActiveAssignmentValidator()
    {
        RuleFor(x => x.ActivationId).NotEmpty().WithMessage("Choose the assignment.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class RemoveActiveAssignmentHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Grants grants, Announcer announcer)
    : ICommandHandler<RemoveActiveAssignment>
{
    public async ValueTask<Unit> Handle(RemoveActiveAssignment command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var activation = await db.Activations.Include(a => a.Role).SingleOrDefaultAsync(a => a.Id == command.ActivationId, cancellationToken)
            ?? throw new NotFoundException("That assignment does not exist.");
        var work = context.Begin(db, now);
        await grants.EndAsync(work, [new GrantEnd(activation, GrantEnding.Removed,
            new { role = activation.Role.DisplayName, scope = activation.Scope, reason = "removed by a PIM administrator", justification = command.Justification?.Trim() })],
            cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("This assignment changed at the same moment (it may have ended); reload to see it.");
        }

        announcer.Announce(work.Announce);
        return Unit.Value;
    }
}
