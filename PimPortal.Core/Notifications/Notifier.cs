using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Notifications;

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

        return [.. open.Select(n => n.RecipientId).Distinct()];
    }

    private void Add(PimDbContext db, Guid recipient, string? address, NotificationKind kind, string subject, string body, string link, Guid requestId)
    {
        var mailTo = MailsNotifications && !string.IsNullOrWhiteSpace(address) ? address : null;
        db.Notifications.Add(new Notification(Guid.NewGuid(), recipient, kind, subject, body, link, requestId, mailTo, time.GetUtcNow()));
    }

    private static string Ticket(ActivationRequest request) =>
        request.TicketNumber is null ? "(none)" : $"{request.TicketNumber} ({request.TicketSystem})";
}
