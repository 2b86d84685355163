using FluentValidation;
using Mediator;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle.Reviews;

namespace PimPortal.Core.Features.Reviews;

/// <summary>A governance lead ends an open instance before its end: the default decision is taken for what is left. Audited.</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record EndReviewInstance(Guid InstanceId, string? Reason) : ICommand;

public sealed class EndReviewInstanceValidator : AbstractValidator<EndReviewInstance>
{
    public EndReviewInstanceValidator()
    {
        RuleFor(x => x.InstanceId).NotEmpty().WithMessage("Choose the review.");
        Features.Assignments.AssignmentRules.Justification(this, x => x.Reason);
    }
}

public sealed class EndReviewInstanceHandler(RequestContext context, ReviewCompletion completion)
    : ICommandHandler<EndReviewInstance>
{
    public async ValueTask<Unit> Handle(EndReviewInstance command, CancellationToken cancellationToken)
    {
        if (!await completion.CompleteAsync(command.InstanceId, context.Actor, context.Client, command.Reason?.Trim(), cancellationToken))
        {
            throw new DomainRuleException("This review has ended already.");
        }

        return Unit.Value;
    }
}
