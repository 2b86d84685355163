using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Reviews;

/// <summary>
/// A reviewer decides lines of an open instance — one, or many at once (up to 500), each its own decision — with a
/// reason (required to deny, and to approve where the review says so). A later decision replaces an earlier one while
/// the instance is open. Each decision is audited.
/// </summary>
public sealed record DecideReviewItems(Guid InstanceId, IReadOnlyList<ReviewChoice> Choices, string? Reason) : ICommand<int>;

public sealed record ReviewChoice(long ItemId, ReviewDecision Decision);

public sealed class DecideReviewItemsValidator : AbstractValidator<DecideReviewItems>
{
    public const int MaxChoices = 500;

    public DecideReviewItemsValidator()
    {
        RuleFor(x => x.Choices).NotEmpty().WithMessage("Choose at least one line.")
            .Must(c => c is null || c.Count <= MaxChoices).WithMessage($"At most {MaxChoices} lines at once.")
            .Must(c => c is null || c.Select(i => i.ItemId).Distinct().Count() == c.Count).WithMessage("Each line can be decided once per submission.");
        RuleForEach(x => x.Choices).Must(c => c.Decision is ReviewDecision.Approve or ReviewDecision.Deny or ReviewDecision.DontKnow)
            .WithMessage("Choose Approve, Deny or Don't know.");
        RuleFor(x => x.Reason).MaximumLength(AccessReviewItem.MaxReasonLength).WithMessage($"At most {AccessReviewItem.MaxReasonLength} characters.");
        RuleFor(x => x.Reason).Must(r => !string.IsNullOrWhiteSpace(r)).When(x => x.Choices is not null && x.Choices.Any(c => c.Decision == ReviewDecision.Deny))
            .WithMessage("Say why the access should be removed (it is kept in the audit trail).");
    }
}

public sealed class DecideReviewItemsHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Announcer announcer)
    : ICommandHandler<DecideReviewItems, int>
{
    public async ValueTask<int> Handle(DecideReviewItems command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var me = context.Actor.PrincipalId;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.AsNoTracking().Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == command.InstanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        if (!instance.IsOpenAt(now))
        {
            throw new DomainRuleException($"This review closed at {instance.EndsAt:u}; decisions can no longer be changed.");
        }

        var definition = instance.Definition;
        if (definition.RequireReasonOnApprove && string.IsNullOrWhiteSpace(command.Reason) && command.Choices.Any(c => c.Decision == ReviewDecision.Approve))
        {
            throw new ValidationFailedException(new Dictionary<string, string[]> { ["Reason"] = ["This review asks for a reason when access is approved."] });
        }

        var ids = command.Choices.Select(c => c.ItemId).ToList();
        var lines = await db.AccessReviewItems.Where(i => i.InstanceId == instance.Id && ids.Contains(i.Id)).ToDictionaryAsync(i => i.Id, cancellationToken);
        if (lines.Count != ids.Count)
        {
            throw new NotFoundException("A chosen line is not part of this review.");
        }

        var reviewer = await ReviewerRules.ForAsync(db, definition.Id, me, cancellationToken);
        var work = context.Begin(db, now);
        foreach (var choice in command.Choices)
        {
            var line = lines[choice.ItemId];
            if (!reviewer.MayDecide(line))
            {
                throw new ForbiddenException(SeparationOfDuties.IsOwn(me, reviewer.Groups, line.PrincipalId)
                    ? $"You cannot review your own access ({line.RoleName}); another reviewer decides it."
                    : $"You are not a reviewer of {line.PrincipalName}'s {line.RoleName}.");
            }

            line.Decide(choice.Decision, me, context.Actor.DisplayName, command.Reason, now);
            work.Audit(AuditActions.ReviewDecided, "review-line", line.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), AuditOutcome.Success, new
            {
                review = definition.Name, run = instance.Run + 1, instanceId = instance.Id, principal = line.PrincipalName, role = line.RoleName, scope = line.Scope,
                decision = choice.Decision.ToString(), reason = line.Reason, recommendation = line.Recommendation.ToString(),
            }, line.PrincipalId, line.RoleId);
        }

        // The decisions count only if the instance is still open once they are written: an end (or "End now") that
        // committed meanwhile wins and they are undone; one that commits after waits for these lines and leaves them
        // decided (it defaults only lines still undecided), so a decision never lands after the default or the removal.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        if (await db.AccessReviewInstances.AsNoTracking().Where(i => i.Id == instance.Id).Select(i => i.Status).SingleAsync(cancellationToken) != ReviewInstanceStatus.Active)
        {
            await transaction.RollbackAsync(cancellationToken);
            throw new DomainRuleException("This review closed at the same moment; decisions can no longer be changed.");
        }

        await transaction.CommitAsync(cancellationToken);
        work.Announce.ReviewRunsChanged();
        announcer.Announce(work.Announce);
        return lines.Count;
    }
}
