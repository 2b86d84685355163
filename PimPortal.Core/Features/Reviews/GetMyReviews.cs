using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>The open instances where the signed-in user has lines to decide, with their progress.</summary>
public sealed record GetMyReviews : IQuery<IReadOnlyList<MyReview>>;

public sealed record MyReview(Guid InstanceId, string Name, int Run, DateTimeOffset EndsAt, int Lines, int Decided);

public sealed class GetMyReviewsHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time) : IQueryHandler<GetMyReviews, IReadOnlyList<MyReview>>
{
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
            var (lines, decided) = await ReviewViews.ProgressAsync(reviewer.Lines(db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id)), cancellationToken);
            if (lines > 0)
            {
                mine.Add(new MyReview(instance.Id, instance.Definition.Name, instance.Run, instance.EndsAt, lines, decided));
            }
        }

        return mine;
    }
}
