using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Notifications;

/// <summary>Marks all of the signed-in user's notifications read.</summary>
public sealed record MarkNotificationsRead : ICommand;

public sealed class MarkNotificationsReadHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, PortalEvents events)
    : ICommandHandler<MarkNotificationsRead>
{
    public async ValueTask<Unit> Handle(MarkNotificationsRead command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var changed = await db.Notifications.Where(n => n.RecipientId == me && n.ReadAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.ReadAt, now), cancellationToken);
        if (changed > 0)
        {
            events.NotificationsChanged([me]);
        }

        return Unit.Value;
    }
}
