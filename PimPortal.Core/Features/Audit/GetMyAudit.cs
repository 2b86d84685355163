using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

/// <summary>The signed-in user's own events: what they did, and what was done to them.</summary>
public sealed record GetMyAudit(long? Before = null, int PageSize = 50) : IQuery<AuditPage>;

public sealed class GetMyAuditHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context) : IQueryHandler<GetMyAudit, AuditPage>
{
    public async ValueTask<AuditPage> Handle(GetMyAudit query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.AuditEvents.AsNoTracking().Where(e => e.ActorId == me || e.SubjectId == me);
        return await SearchAuditHandler.PageAsync(db, mine, query.Before, query.PageSize, cancellationToken);
    }
}
