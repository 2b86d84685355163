using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Assignments;

/// <summary>A PIM administrator removes an eligibility; any activation made from it is revoked at once. Audited.</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record RemoveEligibility(Guid EligibilityId, string? Justification) : ICommand;

public sealed class RemoveEligibilityValidator : AbstractValidator<RemoveEligibility>
{
    public RemoveEligibilityValidator()
    {
        RuleFor(x => x.EligibilityId).NotEmpty().WithMessage("Choose the eligibility.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class RemoveEligibilityHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, EligibilityRemoval removal, Announcer announcer)
    : ICommandHandler<RemoveEligibility>
{
    public async ValueTask<Unit> Handle(RemoveEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var eligibility = await AssignmentRules.LoadEligibilityAsync(db, command.EligibilityId, cancellationToken);
        eligibility.CheckRemovable();

        var work = context.Begin(db, now);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await removal.RemoveAsync(work, [EligibilityToRemove.Of(eligibility, eligibility.Role.DisplayName, command.Justification?.Trim())], eligibility.Version, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("Someone changed this eligibility at the same moment; reload to see it.");
        }

        await transaction.CommitAsync(cancellationToken);
        announcer.Announce(work.Announce);
        return Unit.Value;
    }
}
