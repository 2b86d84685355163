using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>The signed-in reviewer's lines of one instance, a page at a time (name order), with their progress.</summary>
public sealed record GetMyReviewLines(Guid InstanceId, bool UndecidedOnly = false, string? Search = null, int Page = 0) : IQuery<MyReviewPage>;

public sealed record MyReviewPage(
    Guid InstanceId, string Name, string? Description, int Run, DateTimeOffset EndsAt, bool IsOpen, bool RequireReasonOnApprove, int RecommendationDays,
    int Lines, int Decided, IReadOnlyList<ReviewLine> Page, int Matching, int PageSize);

public sealed class GetMyReviewLinesHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time) : IQueryHandler<GetMyReviewLines, MyReviewPage>
{
    public async ValueTask<MyReviewPage> Handle(GetMyReviewLines query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var instance = await db.AccessReviewInstances.AsNoTracking().Include(i => i.Definition).SingleOrDefaultAsync(i => i.Id == query.InstanceId, cancellationToken)
            ?? throw new NotFoundException("That review does not exist.");
        var reviewer = await ReviewerRules.ForAsync(db, instance.DefinitionId, context.Actor.PrincipalId, cancellationToken);
        var mine = reviewer.Lines(db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instance.Id));
        var (total, decided) = await ReviewViews.ProgressAsync(mine, cancellationToken);
        if (total == 0)
        {
            throw new ForbiddenException("You have no lines to review in this access review.");
        }

        var shown = ReviewViews.Search(query.UndecidedOnly ? mine.Where(i => i.Decision == ReviewDecision.None) : mine, query.Search);
        var (page, matching) = await ReviewViews.PageAsync(db, shown, query.Page, cancellationToken);
        var definition = instance.Definition;
        return new MyReviewPage(instance.Id, definition.Name, definition.Description, instance.Run, instance.EndsAt, instance.IsOpenAt(now), definition.RequireReasonOnApprove,
            definition.RecommendationDays, total, decided, page, matching, ReviewViews.PageSize);
    }
}
