using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Approvals;

/// <summary>
/// Carries out an approved request at its start — the last approval of a request for now, or the scheduler at a
/// scheduled time: grants the role (or moves the activation's end), unless by then the request can no longer be
/// carried out, in which case it lapses and nothing is granted. Everything goes into the caller's unit of work.
/// </summary>
internal static class ApprovedRequests
{
    /// <summary>What carrying out the request did: the grant made or extended, or why it lapsed.</summary>
    public sealed record Outcome(Guid? ActivationId, string? LapsedBecause);

    public static async Task<Outcome> CarryOutAsync(
        PimDbContext db, ActivationRequest request, Actor actor, ClientInfo client, DateTimeOffset now, IReadOnlyList<string> approvedBy, PimPortal.Core.Notifications.Notifier notifier,
        CancellationToken cancellationToken)
    {
        if (request.Status != ActivationRequestStatus.Approved)
        {
            throw new InvalidOperationException($"Only an approved request is carried out (this one is {request.Status}).");
        }

        var eligibility = await db.Eligibilities.AsNoTracking().SingleAsync(e => e.Id == request.EligibilityId, cancellationToken);
        var requester = await db.Principals.Where(p => p.Id == request.RequesterId).Select(p => new { p.IsEnabled, p.DisplayName }).SingleAsync(cancellationToken);
        var why = !requester.IsEnabled ? "the requester's account is disabled"
            : eligibility.RemovedAt is not null ? "the eligibility was removed"
            : eligibility.NotBefore > now ? "the eligibility has not started"
            : eligibility.NotAfter is { } end && end <= now ? "the eligibility has ended"
            : eligibility.PrincipalId != request.RequesterId && !await db.GroupMemberships.AnyAsync(m => m.GroupId == eligibility.PrincipalId && m.MemberId == request.RequesterId
                && db.Principals.Any(g => g.Id == eligibility.PrincipalId && g.IsEnabled), cancellationToken) ? "the requester is no longer a member of the eligible group"
            : null;

        if (why is null && request.Kind == ActivationRequestKind.Activate)
        {
            var alreadyOpen = await db.Activations.AnyAsync(a => a.PrincipalId == request.RequesterId && a.RoleId == request.RoleId && a.Scope == request.Scope
                && (a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active), cancellationToken);
            if (alreadyOpen)
            {
                return Lapse(db, request, "the role is already active at this scope", actor, client, now);
            }

            // A scheduled request keeps to the window it asked for: approved late, it gets what is left of it.
            var latest = eligibility.NotAfter;
            if (request.IsScheduled && (latest is null || request.RequestedStart + request.Duration < latest))
            {
                latest = request.RequestedStart + request.Duration;
            }

            if (latest <= now)
            {
                return Lapse(db, request, "the requested window has passed", actor, client, now);
            }

            var activation = new RoleActivation(Guid.NewGuid(), request, now, latest);
            db.Activations.Add(activation);
            db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, activation.Id, now));
            db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.ActivationGranted, "activation", activation.Id.ToString(), AuditOutcome.Success,
                new { request = request.Id, notBefore = activation.NotBefore, notAfter = activation.NotAfter, approvedBy }, request.RequesterId, request.RoleId));
            var roleName = await db.PrivilegedRoles.Where(r => r.Id == request.RoleId).Select(r => r.DisplayName).SingleAsync(cancellationToken);
            await notifier.RoleActivatedAsync(db, request, requester.DisplayName, roleName, activation.NotAfter, cancellationToken);
            return new Outcome(activation.Id, null);
        }

        if (why is null)
        {
            var activation = await db.Activations.SingleAsync(a => a.Id == request.TargetActivationId, cancellationToken);
            var newEnd = now + request.Duration;
            if (eligibility.NotAfter is { } cap && cap < newEnd)
            {
                newEnd = cap;
            }

            why = !activation.IsOpen || now >= activation.NotAfter ? "the activation had already ended"
                : newEnd <= activation.NotAfter ? "the activation already lasts beyond the extension asked for"
                : null;
            if (why is null)
            {
                var previousEnd = activation.NotAfter;
                activation.Extend(newEnd, now);
                db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ExtendGrant, activation.Id, now));
                db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.ActivationExtended, "activation", activation.Id.ToString(), AuditOutcome.Success,
                    new { request = request.Id, previousNotAfter = previousEnd, notAfter = newEnd, approvedBy }, request.RequesterId, request.RoleId));
                return new Outcome(activation.Id, null);
            }
        }

        return Lapse(db, request, why, actor, client, now);
    }

    /// <summary>Who approved the request, by name, as the audit trail records it ("policy" when no approval was needed).</summary>
    public static async Task<IReadOnlyList<string>> ApprovedByAsync(PimDbContext db, ActivationRequest request, CancellationToken cancellationToken)
    {
        if (request.ApprovalsNeeded == 0)
        {
            return ["policy"];
        }

        var ids = request.Decisions.Where(d => d.Verdict == ApprovalVerdict.Approve).Select(d => d.ApproverId).ToList();
        var names = await db.Principals.AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        return [.. ids.Select(id => names.GetValueOrDefault(id, id.ToString()))];
    }

    /// <summary>
    /// Pending extensions of activations that have just ended can no longer be carried out: they lapse (and leave the
    /// approvers' queues). Returns how many.
    /// </summary>
    public static async Task<int> LapsePendingExtensionsAsync(PimDbContext db, IReadOnlyCollection<Guid> endedActivationIds, Actor actor, ClientInfo client, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ids = endedActivationIds.ToList();
        var extensions = await db.ActivationRequests
            .Where(r => r.Status == ActivationRequestStatus.Pending && r.TargetActivationId != null && ids.Contains(r.TargetActivationId.Value))
            .ToListAsync(cancellationToken);
        foreach (var extension in extensions)
        {
            extension.Lapse("Nothing was granted: the activation to extend has ended.", now);
            db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.RequestLapsed, "request", extension.Id.ToString(), AuditOutcome.Success,
                new { reason = "the activation to extend has ended", kind = extension.Kind.ToString() }, extension.RequesterId, extension.RoleId));
        }

        await PimPortal.Core.Notifications.Notifier.RetireApprovalRequestsAsync(db, [.. extensions.Select(e => e.Id)], now, cancellationToken);
        return extensions.Count;
    }

    private static Outcome Lapse(PimDbContext db, ActivationRequest request, string why, Actor actor, ClientInfo client, DateTimeOffset now)
    {
        var reason = $"Nothing was granted: {why}.";
        request.Lapse(reason, now);
        db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.RequestLapsed, "request", request.Id.ToString(), AuditOutcome.Success,
            new { reason = why, kind = request.Kind.ToString() }, request.RequesterId, request.RoleId));
        return new Outcome(null, reason);
    }
}
