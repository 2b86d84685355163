using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>Every access review with its latest instance and its next start (governance leads).</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record GetAccessReviews : IQuery<IReadOnlyList<AccessReviewSummary>>;

public sealed record AccessReviewSummary(
    Guid Id, string Name, IReadOnlyList<string> Roles, ReviewerKind ReviewerKind, ReviewFrequency Frequency, DateTimeOffset? NextStart, bool IsStopped,
    ReviewInstanceView? Latest);

public sealed class GetAccessReviewsHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<GetAccessReviews, IReadOnlyList<AccessReviewSummary>>
{
    public async ValueTask<IReadOnlyList<AccessReviewSummary>> Handle(GetAccessReviews query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var definitions = await db.AccessReviewDefinitions.AsNoTracking().Include(d => d.Roles).AsSplitQuery().OrderByDescending(d => d.CreatedAt).ToListAsync(cancellationToken);
        var roleNames = await ReviewViews.RoleNamesAsync(db, cancellationToken);
        var latestRuns = db.AccessReviewInstances.GroupBy(i => i.DefinitionId).Select(g => new { DefinitionId = g.Key, Run = g.Max(i => i.Run) });
        var instances = await db.AccessReviewInstances.AsNoTracking()
            .Where(i => latestRuns.Any(l => l.DefinitionId == i.DefinitionId && l.Run == i.Run)).ToListAsync(cancellationToken);
        var latest = (await ReviewViews.ViewsAsync(db, instances, definitions.ToDictionary(d => d.Id), cancellationToken)).ToDictionary(v => v.DefinitionId);

        return [.. definitions.Select(d => new AccessReviewSummary(
            d.Id, d.Name, ReviewViews.Names(d, roleNames), d.ReviewerKind, d.Frequency, ReviewViews.NextStart(d, latest.GetValueOrDefault(d.Id)?.Run), d.StoppedAt is not null, latest.GetValueOrDefault(d.Id)))];
    }
}
