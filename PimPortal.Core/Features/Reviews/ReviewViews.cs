using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>
/// An instance and how far it is: <see cref="Tally"/> counts the decisions; <see cref="Removed"/> what applying removed,
/// <see cref="Applied"/> how many denials applying has done so far (of <c>Tally.Denied</c>).
/// </summary>
public sealed record ReviewInstanceView(
    Guid Id, Guid DefinitionId, string Name, int Run, DateTimeOffset StartsAt, DateTimeOffset EndsAt, ReviewInstanceStatus Status, ReviewTally Tally,
    DateTimeOffset? ReminderSentAt, DateTimeOffset? CompletedAt, DateTimeOffset? AppliedAt, int Removed, bool AutoApply)
{
    /// <summary>Denied lines applying has done so far (removed, or found already gone).</summary>
    public int Applied { get; init; }
}

/// <summary>
/// One line as a reviewer sees it. <see cref="Reviewer"/> is the user it is assigned to (null: the reviewer list);
/// <see cref="Decided"/> the decision, with who, when and why.
/// </summary>
public sealed record ReviewLine(
    long Id, ReviewItemKind Kind, Guid PrincipalId, string PrincipalName, Guid RoleId, string RoleName, string Scope, Guid? ReviewerId, string? Reviewer,
    DateTimeOffset? LastActivation, int ActivationCount, ReviewDecision Recommendation, string? RecommendationReason, ReviewItemFlags Flags,
    ReviewDecision Decision, string? DecidedBy, DateTimeOffset? DecidedAt, string? Reason, DateTimeOffset? AppliedAt, string? Outcome);

/// <summary>What the review pages share: a page of lines in name order, the runs with their progress, names and next starts.</summary>
internal static class ReviewViews
{
    public const int PageSize = 50;

    public static IQueryable<AccessReviewItem> Search(IQueryable<AccessReviewItem> lines, string? search)
    {
        if (string.IsNullOrWhiteSpace(search))
        {
            return lines;
        }

        var lower = search.Trim().ToLowerInvariant();
        return lines.Where(i => i.PrincipalName.ToLower().Contains(lower) || i.RoleName.ToLower().Contains(lower));
    }

    public static async Task<(int Lines, int Decided)> ProgressAsync(IQueryable<AccessReviewItem> lines, CancellationToken cancellationToken)
    {
        var counts = await lines.GroupBy(i => i.Decision == ReviewDecision.None).Select(g => new { Undecided = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return (counts.Sum(c => c.Count), counts.Where(c => !c.Undecided).Sum(c => c.Count));
    }

    /// <summary>A page of lines in name order, with how many match (the reviewer's page and the lead's results share it).</summary>
    public static async Task<(IReadOnlyList<ReviewLine> Page, int Matching)> PageAsync(PimDbContext db, IQueryable<AccessReviewItem> lines, int page, CancellationToken cancellationToken)
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
    public static async Task<List<ReviewInstanceView>> ViewsAsync(
        PimDbContext db, IReadOnlyList<AccessReviewInstance> instances, IReadOnlyDictionary<Guid, AccessReviewDefinition> definitions, CancellationToken cancellationToken)
    {
        var counts = await ReviewCounts.ReadAsync(db, [.. instances.Select(i => i.Id)], cancellationToken);
        return [.. instances.Select(instance =>
        {
            var (tally, removed, applied) = counts[instance.Id];
            var definition = definitions[instance.DefinitionId];
            return new ReviewInstanceView(instance.Id, instance.DefinitionId, definition.Name, instance.Run, instance.StartsAt, instance.EndsAt, instance.Status, tally,
                instance.ReminderSentAt, instance.CompletedAt, instance.AppliedAt, removed, definition.AutoApply) { Applied = applied };
        })];
    }

    public static Task<Dictionary<Guid, string>> RoleNamesAsync(PimDbContext db, CancellationToken cancellationToken) =>
        db.PrivilegedRoles.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);

    public static IReadOnlyList<string> Names(AccessReviewDefinition definition, Dictionary<Guid, string> roles) =>
        [.. definition.Roles.Select(r => roles.GetValueOrDefault(r.RoleId, "(deleted role)")).Order(StringComparer.Ordinal)];

    /// <summary>When the next instance starts (after run <paramref name="lastRun"/>), or null when none will.</summary>
    public static DateTimeOffset? NextStart(AccessReviewDefinition definition, int? lastRun) =>
        definition.StoppedAt is null ? definition.Schedule.StartOf(lastRun is { } run ? run + 1 : 0) : null;
}
