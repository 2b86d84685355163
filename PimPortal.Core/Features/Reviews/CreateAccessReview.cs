using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Reviews;

/// <summary>
/// What a governance lead sets for a review: the roles and assignments in scope (optionally only lines inactive for
/// <paramref name="OnlyInactiveDays"/> days), the look-back of the recommendations, who reviews (named or fallback
/// reviewers in <paramref name="ReviewerIds"/>: users or groups), the schedule, and what happens at the end.
/// </summary>
public sealed record AccessReviewInput(
    string Name, string? Description, IReadOnlyList<Guid> RoleIds, ReviewAssignments Assignments, int? OnlyInactiveDays, int RecommendationDays,
    ReviewerKind ReviewerKind, IReadOnlyList<Guid> ReviewerIds,
    DateTimeOffset Start, ReviewFrequency Frequency, int DurationDays, ReviewEnd End, DateTimeOffset? EndDate, int? Runs,
    bool RequireReasonOnApprove, ReviewDefaultDecision DefaultDecision, bool AutoApply, bool Reminders)
{
    public ReviewSchedule Schedule => new(Start.ToUniversalTime(), Frequency, DurationDays, End, EndDate?.ToUniversalTime(), End == ReviewEnd.AfterRuns ? Runs : null);
}

/// <summary>A governance lead creates an access review; its first instance opens at its start. Audited.</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record CreateAccessReview(AccessReviewInput Review) : ICommand<Guid>;

public sealed class CreateAccessReviewValidator : AbstractValidator<CreateAccessReview>
{
    public CreateAccessReviewValidator()
    {
        RuleFor(x => x.Review).NotNull();
        RuleFor(x => x.Review.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Give the review a name.")
            .MaximumLength(AccessReviewDefinition.MaxNameLength).WithMessage($"At most {AccessReviewDefinition.MaxNameLength} characters.");
        RuleFor(x => x.Review.Description).MaximumLength(AccessReviewDefinition.MaxDescriptionLength).WithMessage($"At most {AccessReviewDefinition.MaxDescriptionLength} characters.");
        RuleFor(x => x.Review.RoleIds).NotEmpty().WithMessage("Choose at least one role to review.")
            .Must(r => r is null || r.Count <= AccessReviewDefinition.MaxRoles).WithMessage($"At most {AccessReviewDefinition.MaxRoles} roles in one review.");
        RuleFor(x => x.Review.Assignments).IsInEnum();
        RuleFor(x => x.Review.ReviewerKind).IsInEnum();
        RuleFor(x => x.Review.Frequency).IsInEnum();
        RuleFor(x => x.Review.End).IsInEnum();
        RuleFor(x => x.Review.DefaultDecision).IsInEnum();
        RuleFor(x => x.Review.OnlyInactiveDays).InclusiveBetween(1, AccessReviewDefinition.MaxLookBackDays).When(x => x.Review.OnlyInactiveDays is not null)
            .WithMessage($"Inactive for between 1 and {AccessReviewDefinition.MaxLookBackDays} days.");
        RuleFor(x => x.Review.RecommendationDays).InclusiveBetween(1, AccessReviewDefinition.MaxLookBackDays)
            .WithMessage($"The recommendations look back between 1 and {AccessReviewDefinition.MaxLookBackDays} days.");
        RuleFor(x => x.Review.ReviewerIds).Must(r => r is { Count: > 0 }).When(x => x.Review.ReviewerKind == ReviewerKind.Named)
            .WithMessage("Name at least one reviewer (a user or a group).");
        RuleFor(x => x.Review.ReviewerIds).Must(r => r is { Count: > 0 }).When(x => x.Review.ReviewerKind != ReviewerKind.Named)
            .WithMessage("Name a fallback reviewer: it decides the lines of groups, disabled accounts and principals without an enabled manager.");
        RuleFor(x => x.Review.ReviewerIds).Must(r => r is null || r.Count <= AccessReviewDefinition.MaxReviewers).WithMessage($"At most {AccessReviewDefinition.MaxReviewers} reviewers.");
        RuleFor(x => x.Review).Must(r => r.Schedule.Problems().Count == 0).WithName("Schedule")
            .WithMessage(x => string.Join(" ", x.Review.Schedule.Problems())).When(x => x.Review is not null);
    }
}

public sealed class CreateAccessReviewHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, ReviewOpening opening, Announcer announcer)
    : ICommandHandler<CreateAccessReview, Guid>
{
    public async ValueTask<Guid> Handle(CreateAccessReview command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var input = command.Review;
        var schedule = input.Schedule;

        // A start a moment ago (a form that sat open) means now; a start well in the past would open missed runs.
        Starts.RefuseInThePast(schedule.Start, now);
        schedule = schedule with { Start = Starts.Effective(schedule.Start, now) };

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roleIds = input.RoleIds.Distinct().ToList();
        var roles = await db.PrivilegedRoles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).Select(r => new { r.Id, r.DisplayName }).ToListAsync(cancellationToken);
        if (roles.Count != roleIds.Count)
        {
            throw new NotFoundException("A chosen role does not exist.");
        }

        var reviewerIds = input.ReviewerIds.Distinct().ToList();
        var reviewers = await db.Principals.AsNoTracking().Where(p => reviewerIds.Contains(p.Id)).Select(p => new { p.Id, p.DisplayName, p.IsEnabled }).ToListAsync(cancellationToken);
        if (reviewers.Count != reviewerIds.Count)
        {
            throw new NotFoundException("A chosen reviewer is not in the directory.");
        }

        if (reviewers.Find(r => !r.IsEnabled) is { } disabled)
        {
            throw new DomainRuleException($"{disabled.DisplayName} is disabled and cannot review.");
        }

        var definition = new AccessReviewDefinition(
            Guid.NewGuid(), input.Name, input.Description, input.Assignments, input.OnlyInactiveDays, input.RecommendationDays, input.ReviewerKind, schedule,
            new AccessReviewSettings(input.RequireReasonOnApprove, input.DefaultDecision, input.AutoApply, input.Reminders), roleIds, reviewerIds, context.Actor.PrincipalId, now);
        db.AccessReviewDefinitions.Add(definition);
        var work = context.Begin(db, now);
        work.Audit(AuditActions.ReviewCreated, "review", definition.Id.ToString(), AuditOutcome.Success, new
        {
            name = definition.Name, roles = roles.Select(r => r.DisplayName).Order(StringComparer.Ordinal), assignments = definition.Assignments.ToString(),
            onlyInactiveDays = definition.OnlyInactiveDays, recommendationDays = definition.RecommendationDays, reviewers = definition.ReviewerKind.ToString(),
            namedReviewers = reviewers.Select(r => r.DisplayName).Order(StringComparer.Ordinal), start = schedule.Start, frequency = schedule.Frequency.ToString(),
            durationDays = schedule.DurationDays, end = schedule.End.ToString(), endDate = schedule.EndDate, runs = schedule.Runs,
            requireReasonOnApprove = definition.RequireReasonOnApprove, defaultDecision = definition.DefaultDecision.ToString(), autoApply = definition.AutoApply, reminders = definition.Reminders,
        });
        await db.SaveChangesAsync(cancellationToken);

        // A review that starts now opens now, so its page shows the first run; should that fail, the worker (woken
        // here) opens it on its next pass — the definition is saved either way.
        if (schedule.Start <= now)
        {
            try
            {
                await opening.OpenDueAsync(cancellationToken);
            }
#pragma warning disable CA1031 // Opening is the worker's job too; the command has done its own (the definition is committed).
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                work.Announce.WakeReviews();
            }
        }
        else
        {
            work.Announce.WakeReviews();
        }

        work.Announce.ReviewRunsChanged();
        announcer.Announce(work.Announce);

        return definition.Id;
    }
}
