using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
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

/// <summary>A governance lead stops a review: no instance opens after this (an open one runs to its end). Audited.</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record StopAccessReview(Guid DefinitionId, string? Reason) : ICommand;

/// <summary>A governance lead ends an open instance before its end: the default decision is taken for what is left. Audited.</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record EndReviewInstance(Guid InstanceId, string? Reason) : ICommand;

/// <summary>A governance lead applies a closed instance's results (the definition does not apply them itself). Audited per removal.</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record ApplyReviewResults(Guid InstanceId) : ICommand<ReviewApplication>;

/// <summary>
/// A reviewer decides lines of an open instance — one, or many at once (up to 500), each its own decision — with a
/// reason (required to deny, and to approve where the review says so). A later decision replaces an earlier one while
/// the instance is open. Each decision is audited.
/// </summary>
public sealed record DecideReviewItems(Guid InstanceId, IReadOnlyList<ReviewChoice> Choices, string? Reason) : ICommand<int>;

public sealed record ReviewChoice(long ItemId, ReviewDecision Decision);

public sealed class CreateAccessReviewValidator : AbstractValidator<CreateAccessReview>
{
    public CreateAccessReviewValidator()
    {
        RuleFor(x => x.Review).NotNull();
        RuleFor(x => x.Review.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("Give the review a name.")
            .MaximumLength(AccessReviewDefinition.MaxNameLength).WithMessage($"At most {AccessReviewDefinition.MaxNameLength} characters.");
        RuleFor(x => x.Review.Description).MaximumLength(AccessReviewDefinition.MaxDescriptionLength).WithMessage($"At most {AccessReviewDefinition.MaxDescriptionLength} characters.");
        RuleFor(x => x.Review.RoleIds).NotEmpty().WithMessage("Choose at least one role to review.")
            .Must(r => r is null || r.Count <= 100).WithMessage("At most 100 roles in one review.");
        RuleFor(x => x.Review.Assignments).IsInEnum();
        RuleFor(x => x.Review.ReviewerKind).IsInEnum();
        RuleFor(x => x.Review.Frequency).IsInEnum();
        RuleFor(x => x.Review.End).IsInEnum();
        RuleFor(x => x.Review.DefaultDecision).IsInEnum();
        RuleFor(x => x.Review.OnlyInactiveDays).InclusiveBetween(1, 730).When(x => x.Review.OnlyInactiveDays is not null)
            .WithMessage("Inactive for between 1 and 730 days.");
        RuleFor(x => x.Review.RecommendationDays).InclusiveBetween(1, 730).WithMessage("The recommendations look back between 1 and 730 days.");
        RuleFor(x => x.Review.ReviewerIds).Must(r => r is { Count: > 0 }).When(x => x.Review.ReviewerKind == ReviewerKind.Named)
            .WithMessage("Name at least one reviewer (a user or a group).");
        RuleFor(x => x.Review.ReviewerIds).Must(r => r is { Count: > 0 }).When(x => x.Review.ReviewerKind != ReviewerKind.Named)
            .WithMessage("Name a fallback reviewer: it decides the lines of groups, disabled accounts and principals without an enabled manager.");
        RuleFor(x => x.Review.ReviewerIds).Must(r => r is null || r.Count <= 50).WithMessage("At most 50 reviewers.");
        RuleFor(x => x.Review).Must(r => r.Schedule.Problems().Count == 0).WithName("Schedule")
            .WithMessage(x => string.Join(" ", x.Review.Schedule.Problems())).When(x => x.Review is not null);
    }
}

public sealed class StopAccessReviewValidator : AbstractValidator<StopAccessReview>
{
    public StopAccessReviewValidator()
    {
        RuleFor(x => x.DefinitionId).NotEmpty().WithMessage("Choose the review.");
        Assignments.AssignmentRules.Justification(this, x => x.Reason);
    }
}

public sealed class EndReviewInstanceValidator : AbstractValidator<EndReviewInstance>
{
    public EndReviewInstanceValidator()
    {
        RuleFor(x => x.InstanceId).NotEmpty().WithMessage("Choose the review.");
        Assignments.AssignmentRules.Justification(this, x => x.Reason);
    }
}

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

public sealed class AccessReviewCommandHandlers(
    IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, JobSignals signals, AccessReviewProcessor processor)
    : ICommandHandler<CreateAccessReview, Guid>,
      ICommandHandler<StopAccessReview>,
      ICommandHandler<EndReviewInstance>,
      ICommandHandler<ApplyReviewResults, ReviewApplication>,
      ICommandHandler<DecideReviewItems, int>
{
    public async ValueTask<Guid> Handle(CreateAccessReview command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var input = command.Review;
        var schedule = input.Schedule;

        // A start a moment ago (a form that sat open) means now; a start well in the past would open missed runs.
        if (schedule.Start < now - TimeSpan.FromMinutes(5))
        {
            throw new DomainRuleException($"The start {schedule.Start:u} is in the past; choose now or a later time.");
        }

        if (schedule.Start < now)
        {
            schedule = schedule with { Start = now };
        }

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
        db.AuditEvents.Add(context.Audit(now, AuditActions.ReviewCreated, "review", definition.Id.ToString(), AuditOutcome.Success, new
        {
            name = definition.Name, roles = roles.Select(r => r.DisplayName).Order(StringComparer.Ordinal), assignments = definition.Assignments.ToString(),
            onlyInactiveDays = definition.OnlyInactiveDays, recommendationDays = definition.RecommendationDays, reviewers = definition.ReviewerKind.ToString(),
            namedReviewers = reviewers.Select(r => r.DisplayName).Order(StringComparer.Ordinal), start = schedule.Start, frequency = schedule.Frequency.ToString(),
            durationDays = schedule.DurationDays, end = schedule.End.ToString(), endDate = schedule.EndDate, runs = schedule.Runs,
            requireReasonOnApprove = definition.RequireReasonOnApprove, defaultDecision = definition.DefaultDecision.ToString(), autoApply = definition.AutoApply, reminders = definition.Reminders,
        }));
        await db.SaveChangesAsync(cancellationToken);

        // A review that starts now opens now, so its page shows the first run; should that fail, the worker (woken
        // here) opens it on its next pass — the definition is saved either way.
        if (schedule.Start <= now)
        {
            try
            {
                await processor.OpenDueAsync(cancellationToken);
            }
#pragma warning disable CA1031 // Opening is the worker's job too; the command has done its own (the definition is committed).
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                signals.Reviews.Set();
            }
        }
        else
        {
            signals.Reviews.Set();
        }

        return definition.Id;
    }

    public async ValueTask<Unit> Handle(StopAccessReview command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var definition = await db.AccessReviewDefinitions.SingleOrDefaultAsync(d => d.Id == command.DefinitionId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        definition.Stop(context.Actor.PrincipalId, now);
        db.AuditEvents.Add(context.Audit(now, AuditActions.ReviewStopped, "review", definition.Id.ToString(), AuditOutcome.Success,
            new { name = definition.Name, reason = command.Reason?.Trim() }));
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

    public async ValueTask<Unit> Handle(EndReviewInstance command, CancellationToken cancellationToken)
    {
        if (!await processor.CompleteAsync(command.InstanceId, context.Actor, context.Client, command.Reason?.Trim(), cancellationToken))
        {
            throw new DomainRuleException("This review has ended already.");
        }

        signals.Reviews.Set();
        return Unit.Value;
    }

    public async ValueTask<ReviewApplication> Handle(ApplyReviewResults command, CancellationToken cancellationToken) =>
        await processor.ApplyAsync(command.InstanceId, context.Actor, context.Client, cancellationToken);

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
        foreach (var choice in command.Choices)
        {
            var line = lines[choice.ItemId];
            if (!reviewer.MayDecide(line))
            {
                throw new ForbiddenException(line.PrincipalId == me || reviewer.Groups.Contains(line.PrincipalId)
                    ? $"You cannot review your own access ({line.RoleName}); another reviewer decides it."
                    : $"You are not a reviewer of {line.PrincipalName}'s {line.RoleName}.");
            }

            line.Decide(choice.Decision, me, context.Actor.DisplayName, command.Reason, now);
            db.AuditEvents.Add(context.Audit(now, AuditActions.ReviewDecided, "review-line", line.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), AuditOutcome.Success, new
            {
                review = definition.Name, run = instance.Run + 1, instanceId = instance.Id, principal = line.PrincipalName, role = line.RoleName, scope = line.Scope,
                decision = choice.Decision.ToString(), reason = line.Reason, recommendation = line.Recommendation.ToString(),
            }, line.PrincipalId, line.RoleId));
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
        return lines.Count;
    }
}

/// <summary>Who reviews what: the lines a user may decide in a definition's instances.</summary>
internal sealed record ReviewerRules(Guid Me, IReadOnlySet<Guid> Groups, bool IsListReviewer)
{
    /// <summary>
    /// A line names its reviewer, or (no reviewer) goes to the definition's named or fallback reviewers. Nobody decides
    /// on their own access or a group they are in, whatever list they are on.
    /// </summary>
    public bool MayDecide(AccessReviewItem line) =>
        line.ReviewerId == Me || (line.ReviewerId is null && IsListReviewer && line.PrincipalId != Me && !Groups.Contains(line.PrincipalId));

    /// <summary>The same rule as a query, for reviewers' pages and counts.</summary>
    public IQueryable<AccessReviewItem> Lines(IQueryable<AccessReviewItem> items)
    {
        var me = Me;
        var listed = IsListReviewer;
        var groups = Groups.ToList();
        return items.Where(i => i.ReviewerId == me || (listed && i.ReviewerId == null && i.PrincipalId != me && !groups.Contains(i.PrincipalId)));
    }

    /// <summary>The groups <paramref name="me"/> is a member of (lines of those are theirs too, so not theirs to decide).</summary>
    public static async Task<IReadOnlySet<Guid>> GroupsOfAsync(PimDbContext db, Guid me, CancellationToken cancellationToken) =>
        (await db.GroupMemberships.AsNoTracking().Where(m => m.MemberId == me).Select(m => m.GroupId).ToListAsync(cancellationToken)).ToHashSet();

    public static async Task<ReviewerRules> ForAsync(PimDbContext db, Guid definitionId, Guid me, CancellationToken cancellationToken) =>
        await ForAsync(db, definitionId, me, await GroupsOfAsync(db, me, cancellationToken), cancellationToken);

    /// <summary>The rules for <paramref name="me"/> in one definition: on its reviewer list directly or through a group.</summary>
    public static async Task<ReviewerRules> ForAsync(PimDbContext db, Guid definitionId, Guid me, IReadOnlySet<Guid> groups, CancellationToken cancellationToken)
    {
        var memberOf = groups.ToList();
        var listed = await db.Set<AccessReviewReviewer>().AsNoTracking()
            .AnyAsync(r => r.DefinitionId == definitionId && (r.PrincipalId == me || memberOf.Contains(r.PrincipalId)), cancellationToken);
        return new ReviewerRules(me, groups, listed);
    }

    /// <summary>The users on a definition's reviewer list: named users, and the members of named groups.</summary>
    public static async Task<IReadOnlyList<Guid>> ListReviewersAsync(PimDbContext db, Guid definitionId, CancellationToken cancellationToken)
    {
        var named = db.Set<AccessReviewReviewer>().AsNoTracking().Where(r => r.DefinitionId == definitionId).Select(r => r.PrincipalId);
        var members = db.GroupMemberships.AsNoTracking().Where(m => named.Contains(m.GroupId)).Select(m => m.MemberId);
        return await db.Principals.AsNoTracking().Where(p => p.Kind == PrincipalKind.User && p.IsEnabled && (named.Contains(p.Id) || members.Contains(p.Id)))
            .Select(p => p.Id).ToListAsync(cancellationToken);
    }
}
