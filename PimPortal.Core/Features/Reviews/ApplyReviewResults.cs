using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Reviews;

/// <summary>
/// A governance lead asks for a closed instance's results to be applied (the definition does not apply them itself):
/// the review worker removes what was denied in the background — in their name, each removal audited — and the results
/// page shows its progress. Returns how many denied lines wait to be applied.
/// </summary>
[RequirePermission(PortalPermissions.GovernanceLead)]
public sealed record ApplyReviewResults(Guid InstanceId) : ICommand<int>;

public sealed class ApplyReviewResultsHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, ReviewResults results, Announcer announcer)
    : ICommandHandler<ApplyReviewResults, int>
{
    public async ValueTask<int> Handle(ApplyReviewResults command, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var work = context.Begin(db, time.GetUtcNow());
        var denials = await results.RequestAsync(work, command.InstanceId, cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("Someone else asked for these results to be applied at the same moment.");
        }

        announcer.Announce(work.Announce);
        return denials;
    }
}
