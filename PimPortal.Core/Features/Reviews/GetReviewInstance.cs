using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Reviews;

/// <summary>An instance's lines, filtered and a page at a time (governance leads).</summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record GetReviewInstance(Guid InstanceId, ReviewLineFilter Filter, int Page = 0) : IQuery<ReviewInstancePage>;

/// <param name="Decision">Only lines with this decision (None: not reviewed); null: all.</param>
/// <param name="Search">Part of the principal's or the role's name.</param>
public sealed record ReviewLineFilter(ReviewDecision? Decision = null, string? Search = null);

public sealed record ReviewInstancePage(ReviewInstanceView Instance, IReadOnlyList<ReviewLine> Lines, int Matching, int PageSize);

public sealed class GetReviewInstanceHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<GetReviewInstance, ReviewInstancePage>
{
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

        lines = ReviewViews.Search(lines, query.Filter.Search);
        var (page, matching) = await ReviewViews.PageAsync(db, lines, query.Page, cancellationToken);
        var view = (await ReviewViews.ViewsAsync(db, [instance], new Dictionary<Guid, AccessReviewDefinition> { [instance.DefinitionId] = instance.Definition }, cancellationToken))[0];
        return new ReviewInstancePage(view, page, matching, ReviewViews.PageSize);
    }
}
