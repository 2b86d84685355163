using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Writes the notifications of an approval event into the caller's unit of work (so they exist exactly when the change
/// they tell of commits); they are mailed after commit when SMTP is configured, and always listed in the portal.
/// </summary>
public sealed class Notifier(IOptions<PimOptions> options, TimeProvider time)
{
    /// <summary>Whether notifications are mailed (SMTP configured) or kept in the portal only.</summary>
    public bool MailsNotifications => options.Value.Smtp.IsConfigured;

    /// <summary>Tells every enabled approver of the request's role (but the requester) that it waits for them; returns who.</summary>
    internal async Task<IReadOnlyList<Guid>> ApprovalRequestedAsync(PimDbContext db, ActivationRequest request, string requesterName, string roleName, CancellationToken cancellationToken)
    {
        var approvers = await Approvers.UsersOf(db, request.RoleId).AsNoTracking()
            .Where(p => p.Id != request.RequesterId)
            .Select(p => new { p.Id, p.UserPrincipalName })
            .ToListAsync(cancellationToken);
        var what = request.Kind == ActivationRequestKind.Extend ? "an extension of" : "activation of";
        var subject = $"Approval needed: {requesterName} requests {roleName}";
        var link = $"/requests/{request.Id}";
        var body = $"""
            {requesterName} requests {what} {roleName} ({request.Scope}) for {Policy.ActivationPolicy.Format(request.Duration)}.

            Justification: {request.Justification ?? "(none)"}
            Ticket: {Ticket(request)}
            Requested start: {request.RequestedStart:u}
            Decide by: {request.ExpiresAt:u}

            Approve or deny: {options.Value.LinkTo(link)}
            """;
        foreach (var approver in approvers)
        {
            Add(db, approver.Id, approver.UserPrincipalName, NotificationKind.ApprovalRequested, subject, body, link, request.Id);
        }

        return [.. approvers.Select(a => a.Id)];
    }

    /// <summary>Tells the requester what became of their request.</summary>
    internal async Task RequestClosedAsync(PimDbContext db, ActivationRequest request, string roleName, string outcome, string? detail, CancellationToken cancellationToken)
    {
        var address = await db.Principals.AsNoTracking().Where(p => p.Id == request.RequesterId).Select(p => p.UserPrincipalName).SingleOrDefaultAsync(cancellationToken);
        var kind = request.Status switch
        {
            ActivationRequestStatus.Approved or ActivationRequestStatus.Scheduled => NotificationKind.RequestApproved,
            ActivationRequestStatus.Denied => NotificationKind.RequestDenied,
            _ => NotificationKind.RequestClosed,
        };
        var link = $"/requests/{request.Id}";
        var body = $"""
            Your request for {roleName} ({request.Scope}) was {outcome}.
            {(detail is null ? "" : detail + "\n")}
            Details and timeline: {options.Value.LinkTo(link)}
            """;
        Add(db, request.RequesterId, address, kind, $"Your request for {roleName} was {outcome}", body, link, request.Id);
    }

    /// <summary>
    /// The requests left the approvers' hands (decided, cancelled, expired, lapsed): their "approval needed"
    /// notifications are marked read, so no bell keeps counting them. Returns whose bells changed.
    /// </summary>
    internal static async Task<IReadOnlyList<Guid>> RetireApprovalRequestsAsync(PimDbContext db, IReadOnlyCollection<Guid> requestIds, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = requestIds.ToList();
        var open = await db.Notifications
            .Where(n => n.RequestId != null && ids.Contains(n.RequestId.Value) && n.Kind == NotificationKind.ApprovalRequested && n.ReadAt == null)
            .ToListAsync(cancellationToken);
        foreach (var notification in open)
        {
            notification.MarkRead(now);
        }

        return [.. open.Where(n => n.RecipientId != null).Select(n => n.RecipientId!.Value).Distinct()];
    }

    /// <summary>
    /// Tells whoever the role's settings name for <paramref name="roleEvent"/> (PIM administrators, the person it
    /// concerns, further addresses by mail only); returns whose bells changed.
    /// </summary>
    internal async Task<IReadOnlyList<Guid>> RoleEventAsync(
        PimDbContext db, Guid roleId, RoleNotificationEvent roleEvent, Guid assigneeId, string subject, string body, string link, CancellationToken cancellationToken)
    {
        var rule = await db.Set<RoleNotificationRule>().AsNoTracking().SingleOrDefaultAsync(r => r.RoleId == roleId && r.Event == roleEvent, cancellationToken);
        if (rule is null || !rule.NotifiesAnyone)
        {
            return [];
        }

        var recipients = new Dictionary<Guid, string?>();
        if (rule.NotifyAdministrators)
        {
            foreach (var admin in await PortalAdministrators.Of(db).Select(p => new { p.Id, p.UserPrincipalName }).ToListAsync(cancellationToken))
            {
                recipients[admin.Id] = admin.UserPrincipalName;
            }
        }

        if (rule.NotifyAssignee && await db.Principals.AsNoTracking().Where(p => p.Id == assigneeId).Select(p => new { p.Id, p.Kind, p.UserPrincipalName }).SingleOrDefaultAsync(cancellationToken) is { } assignee)
        {
            if (assignee.Kind == PrincipalKind.User)
            {
                recipients[assignee.Id] = assignee.UserPrincipalName;
            }
            else
            {
                // A group is told through its enabled members.
                foreach (var member in await db.GroupMemberships.AsNoTracking().Where(m => m.GroupId == assigneeId)
                             .Join(db.Principals.Where(p => p.IsEnabled), m => m.MemberId, p => p.Id, (m, p) => new { p.Id, p.UserPrincipalName })
                             .ToListAsync(cancellationToken))
                {
                    recipients[member.Id] = member.UserPrincipalName;
                }
            }
        }

        var kind = roleEvent switch
        {
            RoleNotificationEvent.EligibilityAssigned => NotificationKind.EligibilityAssigned,
            RoleNotificationEvent.ActiveAssigned => NotificationKind.ActiveAssigned,
            _ => NotificationKind.RoleActivated,
        };
        var text = WithLink(body, link);
        foreach (var (id, address) in recipients)
        {
            Add(db, id, address, kind, subject, text, link, null);
        }

        // Further addresses have no bell in the portal: mail only, and only when mail is configured.
        if (MailsNotifications)
        {
            foreach (var address in rule.AdditionalAddresses.Where(a => !recipients.Values.Contains(a, StringComparer.OrdinalIgnoreCase)))
            {
                db.Notifications.Add(new Notification(Guid.NewGuid(), null, kind, subject, text, link, null, address, time.GetUtcNow()));
            }
        }

        return [.. recipients.Keys];
    }

    /// <summary>An activation was granted: tells whom the role's settings name for activations.</summary>
    internal Task<IReadOnlyList<Guid>> RoleActivatedAsync(PimDbContext db, ActivationRequest request, string holderName, string roleName, DateTimeOffset notAfter, CancellationToken cancellationToken) =>
        RoleEventAsync(db, request.RoleId, RoleNotificationEvent.Activated, request.RequesterId, $"{holderName} activated {roleName}",
            $"""
            {holderName} activated {roleName} ({request.Scope}) until {notAfter:u}.

            Justification: {request.Justification ?? "(none)"}
            Ticket: {Ticket(request)}
            """, $"/requests/{request.Id}", cancellationToken);

    /// <summary>Tells every PIM administrator but <paramref name="except"/> (in the portal, and by mail when configured); returns who.</summary>
    internal async Task<IReadOnlyList<Guid>> AdministratorsAsync(PimDbContext db, NotificationKind kind, string subject, string body, string link, CancellationToken cancellationToken, Guid? except)
    {
        var admins = await PortalAdministrators.Of(db).Where(p => p.Id != except).Select(p => new { p.Id, p.UserPrincipalName }).ToListAsync(cancellationToken);
        var text = WithLink(body, link);
        foreach (var admin in admins)
        {
            Add(db, admin.Id, admin.UserPrincipalName, kind, subject, text, link, null);
        }

        return [.. admins.Select(a => a.Id)];
    }

    /// <summary>Tells one user (in the portal, and by mail when configured).</summary>
    internal async Task NotifyAsync(PimDbContext db, Guid recipientId, NotificationKind kind, string subject, string body, string link, CancellationToken cancellationToken)
    {
        var address = await db.Principals.AsNoTracking().Where(p => p.Id == recipientId).Select(p => p.UserPrincipalName).SingleOrDefaultAsync(cancellationToken);
        Add(db, recipientId, address, kind, subject, WithLink(body, link), link, null);
    }

    private void Add(PimDbContext db, Guid recipient, string? address, NotificationKind kind, string subject, string body, string link, Guid? requestId)
    {
        var mailTo = MailsNotifications && !string.IsNullOrWhiteSpace(address) ? address : null;
        db.Notifications.Add(new Notification(Guid.NewGuid(), recipient, kind, subject, body, link, requestId, mailTo, time.GetUtcNow()));
    }

    /// <summary>The body with the absolute link to its page on the portal's public address.</summary>
    private string WithLink(string body, string link) => $"{body}\n\nDetails: {options.Value.LinkTo(link)}";

    private static string Ticket(ActivationRequest request) =>
        request.TicketNumber is null ? "(none)" : $"{request.TicketNumber} ({request.TicketSystem})";
}
