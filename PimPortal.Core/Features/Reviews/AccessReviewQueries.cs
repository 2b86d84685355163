using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>Every access review with its latest instance and its next start (governance leads).</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record GetAccessReviews : IQuery<IReadOnlyList<AccessReviewSummary>>;

public sealed record AccessReviewSummary(
    Guid Id, string Name, IReadOnlyList<string> Roles, ReviewerKind ReviewerKind, ReviewFrequency Frequency, DateTimeOffset? NextStart, bool IsStopped,
    ReviewInstanceView? Latest);

/// <summary>One review: its settings, reviewers and every instance with its progress (governance leads).</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record GetAccessReview(Guid DefinitionId) : IQuery<AccessReviewDetail>;

public sealed record AccessReviewDetail(
    Guid Id, string Name, string? Description, IReadOnlyList<string> Roles, ReviewAssignments Assignments, int? OnlyInactiveDays, int RecommendationDays,
    ReviewerKind ReviewerKind, IReadOnlyList<PrincipalRef> Reviewers, ReviewSchedule Schedule, AccessReviewSettings Settings, DateTimeOffset? NextStart,
    DateTimeOffset? StoppedAt, IReadOnlyList<ReviewInstanceView> Instances);

/// <summary>An instance and how far it is: <see cref="Tally"/> counts the decisions; <see cref="Removed"/> what applying removed.</summary>
public sealed record ReviewInstanceView(
    Guid Id, Guid DefinitionId, string Name, int Run, DateTimeOffset StartsAt, DateTimeOffset EndsAt, ReviewInstanceStatus Status, ReviewTally Tally,
    DateTimeOffset? ReminderSentAt, DateTimeOffset? CompletedAt, DateTimeOffset? AppliedAt, int Removed, bool AutoApply);

/// <summary>An instance's lines, filtered and a page at a time (governance leads).</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record GetReviewInstance(Guid InstanceId, ReviewLineFilter Filter, int Page = 0) : IQuery<ReviewInstancePage>;

/// <param name="Decision">Only lines with this decision (None: not reviewed); null: all.</param>
/// <param name="Search">Part of the principal's or the role's name.</param>
public sealed record ReviewLineFilter(ReviewDecision? Decision = null, string? Search = null);

public sealed record ReviewInstancePage(ReviewInstanceView Instance, IReadOnlyList<ReviewLine> Lines, int Matching, int PageSize);

/// <summary>
/// One line as a reviewer sees it. <see cref="Reviewer"/> is the user it is assigned to (null: the reviewer list);
/// <see cref="Decided"/> the decision, with who, when and why.
/// </summary>
public sealed record ReviewLine(
    long Id, ReviewItemKind Kind, Guid PrincipalId, string PrincipalName, Guid RoleId, string RoleName, string Scope, Guid? ReviewerId, string? Reviewer,
    DateTimeOffset? LastActivation, int ActivationCount, ReviewDecision Recommendation, string? RecommendationReason, ReviewItemFlags Flags,
    ReviewDecision Decision, string? DecidedBy, DateTimeOffset? DecidedAt, string? Reason, DateTimeOffset? AppliedAt, string? Outcome);

/// <summary>The open instances where the signed-in user has lines to decide, with their progress.</summary>
public sealed record GetMyReviews : IQuery<IReadOnlyList<MyReview>>;

public sealed record MyReview(Guid InstanceId, string Name, int Run, DateTimeOffset EndsAt, int Lines, int Decided);

/// <summary>The signed-in reviewer's lines of one instance, a page at a time (name order), with their progress.</summary>
public sealed record GetMyReviewLines(Guid InstanceId, bool UndecidedOnly = false, string? Search = null, int Page = 0) : IQuery<MyReviewPage>;

public sealed record MyReviewPage(
    Guid InstanceId, string Name, string? Description, int Run, DateTimeOffset EndsAt, bool IsOpen, bool RequireReasonOnApprove, int RecommendationDays,
    int Lines, int Decided, IReadOnlyList<ReviewLine> Page, int Matching, int PageSize);

public sealed class AccessReviewQueryHandlers(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time)
    : IQueryHandler<GetAccessReviews, IReadOnlyList<AccessReviewSummary>>,
      IQueryHandler<GetAccessReview, AccessReviewDetail>,
      IQueryHandler<GetReviewInstance, ReviewInstancePage>,
      IQueryHandler<GetMyReviews, IReadOnlyList<MyReview>>,
      IQueryHandler<GetMyReviewLines, MyReviewPage>
{
    public const int PageSize = 50;

    public async ValueTask<IReadOnlyList<AccessReviewSummary>> Handle(GetAccessReviews query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var definitions = await db.AccessReviewDefinitions.AsNoTracking().Include(d => d.Roles).AsSplitQuery().OrderByDescending(d => d.CreatedAt).ToListAsync(cancellationToken);
        var roleNames = await RoleNamesAsync(db, cancellationToken);
        var latestRuns = db.AccessReviewInstances.GroupBy(i => i.DefinitionId).Select(g => new { DefinitionId = g.Key, Run = g.Max(i => i.Run) });
        var instances = await db.AccessReviewInstances.AsNoTracking()
            .Where(i => latestRuns.Any(l => l.DefinitionId == i.DefinitionId && l.Run == i.Run)).ToListAsync(cancellationToken);
        var latest = (await ViewsAsync(db, instances, definitions.ToDictionary(d => d.Id), cancellationToken)).ToDictionary(v => v.DefinitionId);

        return [.. definitions.Select(d => new AccessReviewSummary(
            d.Id, d.Name, Names(d, roleNames), d.ReviewerKind, d.Frequency, NextStart(d, latest.GetValueOrDefault(d.Id)?.Run), d.StoppedAt is not null, latest.GetValueOrDefault(d.Id)))];
    }

    public async ValueTask<AccessReviewDetail> Handle(GetAccessReview query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var definition = await db.AccessReviewDefinitions.AsNoTracking().Include(d => d.Roles).Include(d => d.Reviewers).AsSplitQuery()
            .SingleOrDefaultAsync(d => d.Id == query.DefinitionId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        var instances = await db.AccessReviewInstances.AsNoTracking().Where(i => i.DefinitionId == definition.Id).OrderByDescending(i => i.Run).ToListAsync(cancellationToken);
        var views = await ViewsAsync(db, instances, new Dictionary<Guid, AccessReviewDefinition> { [definition.Id] = definition }, cancellationToken);
        var reviewers = await RoleSettingsQueryHandlers.PrincipalsAsync(db, [.. definition.Reviewers.Select(r => r.PrincipalId)], cancellationToken);
        return new AccessReviewDetail(
            definition.Id, definition.Name, definition.Description, Names(definition, await RoleNamesAsync(db, cancellationToken)), definition.Assignments,
            definition.OnlyInactiveDays, definition.RecommendationDays, definition.ReviewerKind, reviewers, definition.Schedule, definition.Settings,
            NextStart(definition, instances.Count == 0 ? null : instances[0].Run), definition.StoppedAt, views);
    }

    public async ValueTask<ReviewInstancePage> Handle(GetReviewInstance query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.AsNoTracking().Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == query.InstanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        var lines = db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id);
        if (query.Filter.Decision is { } decision)
        {
            lines = lines.Where(i => i.Decision == decision);
        }

        lines = Search(lines, query.Filter.Search);
        var (page, matching) = await PageAsync(db, lines, query.Page, cancellationToken);
        var view = (await ViewsAsync(db, [instance], new Dictionary<Guid, AccessReviewDefinition> { [instance.DefinitionId] = instance.Definition }, cancellationToken))[0];
        return new ReviewInstancePage(view, page, matching, PageSize);
    }

    public async ValueTask<IReadOnlyList<MyReview>> Handle(GetMyReviews query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var open = await db.AccessReviewInstances.AsNoTracking().Include(i => i.Definition)
            .Where(i => i.Status == ReviewInstanceStatus.Active && i.EndsAt > now).OrderBy(i => i.EndsAt).ToListAsync(cancellationToken);
        var mine = new List<MyReview>();
        var groups = await ReviewerRules.GroupsOfAsync(db, context.Actor.PrincipalId, cancellationToken);
        foreach (var instance in open)
        {
            var reviewer = await ReviewerRules.ForAsync(db, instance.DefinitionId, context.Actor.PrincipalId, groups, cancellationToken);
            var (lines, decided) = await ProgressAsync(reviewer.Lines(db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id)), cancellationToken);
            if (lines > 0)
            {
                mine.Add(new MyReview(instance.Id, instance.Definition.Name, instance.Run, instance.EndsAt, lines, decided));
            }
        }

        return mine;
    }

    public async ValueTask<MyReviewPage> Handle(GetMyReviewLines query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.AsNoTracking().Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == query.InstanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        var reviewer = await ReviewerRules.ForAsync(db, instance.DefinitionId, context.Actor.PrincipalId, cancellationToken);
        var mine = reviewer.Lines(db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id));
        var (total, decided) = await ProgressAsync(mine, cancellationToken);
        if (total == 0)
        {
            throw new ForbiddenException("You have no lines to review in this access review.");
        }

        var shown = Search(query.UndecidedOnly ? mine.Where(i => i.Decision == ReviewDecision.None) : mine, query.Search);
        var (page, matching) = await PageAsync(db, shown, query.Page, cancellationToken);
        var definition = instance.Definition;
        return new MyReviewPage(instance.Id, definition.Name, definition.Description, instance.Run, instance.EndsAt, instance.IsOpenAt(now), definition.RequireReasonOnApprove,
            definition.RecommendationDays, total, decided, page, matching, PageSize);
    }

    private static IQueryable<AccessReviewItem> Search(IQueryable<AccessReviewItem> lines, string? search)
    {
        if (string.IsNullOrWhiteSpace(search))
        {
            return lines;
        }

        var lower = search.Trim().ToLowerInvariant();
        return lines.Where(i => i.PrincipalName.ToLower().Contains(lower) || i.RoleName.ToLower().Contains(lower));
    }

    private static async Task<(int Lines, int Decided)> ProgressAsync(IQueryable<AccessReviewItem> lines, CancellationToken cancellationToken)
    {
        var counts = await lines.GroupBy(i => i.Decision == ReviewDecision.None).Select(g => new { Undecided = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return (counts.Sum(c => c.Count), counts.Where(c => !c.Undecided).Sum(c => c.Count));
    }

    /// <summary>A page of lines in name order, with how many match (the reviewer's page and the lead's results share it).</summary>
    private static async Task<(IReadOnlyList<ReviewLine> Page, int Matching)> PageAsync(PimDbContext db, IQueryable<AccessReviewItem> lines, int page, CancellationToken cancellationToken)
    {
        var matching = await lines.CountAsync(cancellationToken);
        var rows = await lines.OrderBy(i => i.PrincipalName).ThenBy(i => i.Id).Skip(Math.Max(0, page) * PageSize).Take(PageSize)
            .Select(i => new ReviewLine(
                i.Id, i.Kind, i.PrincipalId, i.PrincipalName, i.RoleId, i.RoleName, i.Scope, i.ReviewerId, null, i.LastActivation, i.ActivationCount, i.Recommendation,
                i.RecommendationReason, i.Flags, i.Decision, i.DecidedByName, i.DecidedAt, i.Reason, i.AppliedAt, i.Outcome))
            .ToListAsync(cancellationToken);
        var reviewerIds = rows.Where(r => r.ReviewerId is not null).Select(r => r.ReviewerId!.Value).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => reviewerIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        return ([.. rows.Select(r => r with { Reviewer = r.ReviewerId is { } id ? names.GetValueOrDefault(id) : null })], matching);
    }

    /// <summary>The runs with their tallies and (once applied) how many lines were removed.</summary>
    private static async Task<List<ReviewInstanceView>> ViewsAsync(
        PimDbContext db, IReadOnlyList<AccessReviewInstance> instances, IReadOnlyDictionary<Guid, AccessReviewDefinition> definitions, CancellationToken cancellationToken)
    {
        var counts = await ReviewCounts.ReadAsync(db, [.. instances.Select(i => i.Id)], cancellationToken);
        return [.. instances.Select(instance =>
        {
            var (tally, removed) = counts[instance.Id];
            var definition = definitions[instance.DefinitionId];
            return new ReviewInstanceView(instance.Id, instance.DefinitionId, definition.Name, instance.Run, instance.StartsAt, instance.EndsAt, instance.Status, tally,
                instance.ReminderSentAt, instance.CompletedAt, instance.AppliedAt, removed, definition.AutoApply);
        })];
    }

    private static Task<Dictionary<Guid, string>> RoleNamesAsync(PimDbContext db, CancellationToken cancellationToken) =>
        db.PrivilegedRoles.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);

    private static IReadOnlyList<string> Names(AccessReviewDefinition definition, Dictionary<Guid, string> roles) =>
        [.. definition.Roles.Select(r => roles.GetValueOrDefault(r.RoleId, "(deleted role)")).Order(StringComparer.Ordinal)];

    /// <summary>When the next instance starts (after run <paramref name="lastRun"/>), or null when none will.</summary>
    private static DateTimeOffset? NextStart(AccessReviewDefinition definition, int? lastRun) =>
        definition.StoppedAt is null ? definition.Schedule.StartOf(lastRun is { } run ? run + 1 : 0) : null;
}
