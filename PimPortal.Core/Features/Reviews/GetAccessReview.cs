using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>One review: its settings, reviewers and every instance with its progress (governance leads).</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record GetAccessReview(Guid DefinitionId) : IQuery<AccessReviewDetail>;

public sealed record AccessReviewDetail(
    Guid Id, string Name, string? Description, IReadOnlyList<string> Roles, ReviewAssignments Assignments, int? OnlyInactiveDays, int RecommendationDays,
    ReviewerKind ReviewerKind, IReadOnlyList<PrincipalRef> Reviewers, ReviewSchedule Schedule, AccessReviewSettings Settings, DateTimeOffset? NextStart,
    DateTimeOffset? StoppedAt, IReadOnlyList<ReviewInstanceView> Instances);

public sealed class GetAccessReviewHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<GetAccessReview, AccessReviewDetail>
{
    public async ValueTask<AccessReviewDetail> Handle(GetAccessReview query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var definition = await db.AccessReviewDefinitions.AsNoTracking().Include(d => d.Roles).Include(d => d.Reviewers).AsSplitQuery()
            .SingleOrDefaultAsync(d => d.Id == query.DefinitionId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        var instances = await db.AccessReviewInstances.AsNoTracking().Where(i => i.DefinitionId == definition.Id).OrderByDescending(i => i.Run).ToListAsync(cancellationToken);
        var views = await ReviewViews.ViewsAsync(db, instances, new Dictionary<Guid, AccessReviewDefinition> { [definition.Id] = definition }, cancellationToken);
        var reviewers = await PrincipalRef.ListAsync(db, [.. definition.Reviewers.Select(r => r.PrincipalId)], cancellationToken);
        return new AccessReviewDetail(
            definition.Id, definition.Name, definition.Description, ReviewViews.Names(definition, await ReviewViews.RoleNamesAsync(db, cancellationToken)), definition.Assignments,
            definition.OnlyInactiveDays, definition.RecommendationDays, definition.ReviewerKind, reviewers, definition.Schedule, definition.Settings,
            ReviewViews.NextStart(definition, instances.Count == 0 ? null : instances[0].Run), definition.StoppedAt, views);
    }
}
