using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Notifications;

/// <summary>The signed-in user's latest notifications, how many are unread, and whether they are also mailed.</summary>
public sealed record GetMyNotifications(int Take = 20) : IQuery<MyNotifications>;

/// <param name="MailEnabled">False when no SMTP server is configured: notifications are in the portal only.</param>
public sealed record MyNotifications(IReadOnlyList<NotificationView> Items, int Unread, bool MailEnabled);

public sealed record NotificationView(Guid Id, NotificationKind Kind, string Subject, string Link, DateTimeOffset CreatedAt, bool IsRead, EmailStatus EmailStatus);

public sealed class GetMyNotificationsHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, Notifier notifier)
    : IQueryHandler<GetMyNotifications, MyNotifications>
{
    public async ValueTask<MyNotifications> Handle(GetMyNotifications query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var items = await db.Notifications.AsNoTracking()
            .Where(n => n.RecipientId == me)
            .OrderByDescending(n => n.CreatedAt)
            .Take(Math.Clamp(query.Take, 1, 100))
            .Select(n => new NotificationView(n.Id, n.Kind, n.Subject, n.Link, n.CreatedAt, n.ReadAt != null, n.EmailStatus))
            .ToListAsync(cancellationToken);
        var unread = await db.Notifications.CountAsync(n => n.RecipientId == me && n.ReadAt == null, cancellationToken);
        return new MyNotifications(items, unread, notifier.MailsNotifications);
    }
}
