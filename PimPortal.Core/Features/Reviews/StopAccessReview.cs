using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>A governance lead stops a review: no instance opens after this (an open one runs to its end). Audited.</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record StopAccessReview(Guid DefinitionId, string? Reason) : ICommand;

public sealed class StopAccessReviewValidator : AbstractValidator<StopAccessReview>
{
    public StopAccessReviewValidator()
    {
        RuleFor(x => x.DefinitionId).NotEmpty().WithMessage("Choose the review.");
        Features.Assignments.AssignmentRules.Justification(this, x => x.Reason);
    }
}

public sealed class StopAccessReviewHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time)
    : ICommandHandler<StopAccessReview>
{
    public async ValueTask<Unit> Handle(StopAccessReview command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var definition = await db.AccessReviewDefinitions.SingleOrDefaultAsync(d => d.Id == command.DefinitionId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        definition.Stop(context.Actor.PrincipalId, now);
        context.Begin(db, now).Audit(AuditActions.ReviewStopped, "review", definition.Id.ToString(), AuditOutcome.Success,
            new { name = definition.Name, reason = command.Reason?.Trim() });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("Someone changed this review at the same moment; reload to see it.");
        }

        return Unit.Value;
    }
}
