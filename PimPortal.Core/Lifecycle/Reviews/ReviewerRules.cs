using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>Who reviews what: the lines a user may decide in a definition's instances.</summary>
internal sealed record ReviewerRules(Guid Me, IReadOnlySet<Guid> Groups, bool IsListReviewer)
{
    /// <summary>
    /// A line names its reviewer, or (no reviewer) goes to the definition's named or fallback reviewers. Nobody decides
    /// on their own access or a group they are in (<see cref="SeparationOfDuties"/>), whatever list they are on.
    /// </summary>
    public bool MayDecide(AccessReviewItem line) =>
        line.ReviewerId == Me || (line.ReviewerId is null && IsListReviewer && !SeparationOfDuties.IsOwn(Me, Groups, line.PrincipalId));

    /// <summary>The same rule as a query, for reviewers' pages and counts.</summary>
    public IQueryable<AccessReviewItem> Lines(IQueryable<AccessReviewItem> items)
    {
        var me = Me;
        var listed = IsListReviewer;
        var own = SeparationOfDuties.OwnOf(Me, Groups);
        return items.Where(i => i.ReviewerId == me || (listed && i.ReviewerId == null && !own.Contains(i.PrincipalId)));
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
