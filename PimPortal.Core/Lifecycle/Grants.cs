using PimPortal.Core.Domain;


namespace PimPortal.Core.Lifecycle;

/// <summary>
/// The grant's life — made from an approved request or assigned by an administrator, extended, ended — and the one
/// place each step is written: the activation changes, the outbox message that carries the change to the directory,
/// and the audit event, staged together in the caller's unit of work. Nothing here writes the directory itself.
/// </summary>
public sealed class Grants(Notifier notifier, RequestLapses lapses)
{
    /// <summary>
    /// The grant of an approved request: from now for the request's duration (cut at <paramref name="endAtLatest"/>),
    /// provisioned through the outbox, audited (<paramref name="approvedBy"/> as the trail records it), and announced
    /// to whom the role's settings name for activations.
    /// </summary>
    public async Task<RoleActivation> GrantAsync(
        LifecycleContext work, ActivationRequest request, string holderName, string roleName, object approvedBy, DateTimeOffset? endAtLatest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(request);
        var activation = new RoleActivation(Guid.NewGuid(), request, work.Now, endAtLatest);
        work.Db.Activations.Add(activation);
        Provision(work, activation);
        PimTelemetry.Activations.Add(1, new("pim.role_id", request.RoleId), new("pim.outcome", "granted"));
        work.Audit(AuditActions.ActivationGranted, "activation", activation.Id.ToString(), AuditOutcome.Success,
            new { request = request.Id, notBefore = activation.NotBefore, notAfter = activation.NotAfter, approvedBy }, request.RequesterId, request.RoleId);
        work.Announce.NotificationsOf(await notifier.RoleActivatedAsync(work.Db, request, holderName, roleName, activation.NotAfter, cancellationToken));
        work.Announce.MailWritten();
        return activation;
    }

    /// <summary>
    /// An active assignment a PIM administrator makes (no request, no eligibility): until <paramref name="end"/>
    /// (permanent when null), provisioned through the outbox, audited, and announced as the role's settings say.
    /// </summary>
    public async Task<RoleActivation> AssignAsync(
        LifecycleContext work, Principal principal, PrivilegedRole role, DateTimeOffset? end, string? justification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(role);
        var assignment = RoleActivation.Assigned(Guid.NewGuid(), principal.Id, role.Id, role.Scope, end, work.Actor.PrincipalId, work.Now);
        work.Db.Activations.Add(assignment);
        Provision(work, assignment);
        var who = principal.Label;
        work.Audit(AuditActions.ActiveAssigned, "activation", assignment.Id.ToString(), AuditOutcome.Success,
            new { principal = who, role = role.DisplayName, scope = role.Scope, notAfter = end, permanent = end is null, justification }, principal.Id, role.Id);
        work.Announce.NotificationsOf(await notifier.RoleEventAsync(work.Db, role.Id, RoleNotificationEvent.ActiveAssigned, principal.Id,
            $"{who} was assigned {role.DisplayName} active",
            $"{work.Actor.DisplayName} assigned {role.DisplayName} ({role.Scope}) active to {who} {(end is { } until ? $"until {until:u}" : "permanently")}.\nJustification: {justification}",
            "/", cancellationToken));
        work.Announce.MailWritten();
        return assignment;
    }

    /// <summary>
    /// Moves an open grant's end to <paramref name="newEnd"/>: the activation, the outbox message that moves it in the
    /// directory, and the audit event (<paramref name="details"/> given the end before).
    /// </summary>
    public static void Extend(LifecycleContext work, RoleActivation activation, DateTimeOffset newEnd, Func<DateTimeOffset, object> details)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(activation);
        ArgumentNullException.ThrowIfNull(details);
        var previousEnd = activation.NotAfter;
        activation.Extend(newEnd, work.Now);
        work.Db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ExtendGrant, activation.Id, work.Now));
        work.Audit(AuditActions.ActivationExtended, "activation", activation.Id.ToString(), AuditOutcome.Success, details(previousEnd), activation.PrincipalId, activation.RoleId);
        work.Announce.WakeOutbox();
        work.Announce.WakeExpiry();
        work.Announce.RolesOf(activation.PrincipalId);
    }

    /// <summary>
    /// Ends open grants now, each as <see cref="GrantEnd.How"/> says, with its audit event and the outbox message that
    /// removes it from the directory; pending extensions of them lapse (one query for all).
    /// </summary>
    public async Task EndAsync(LifecycleContext work, IReadOnlyList<GrantEnd> ends, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(ends);
        if (ends.Count == 0)
        {
            return;
        }

        foreach (var (activation, how, details) in ends)
        {
            var action = how switch
            {
                GrantEnding.Deactivated => AuditActions.ActivationDeactivated,
                GrantEnding.Expired => AuditActions.ActivationExpired,
                GrantEnding.Removed when activation.IsAssignment => AuditActions.ActiveAssignmentRemoved,
                _ => AuditActions.ActivationRevoked,
            };
            switch (how)
            {
                case GrantEnding.Deactivated:
                    activation.Deactivate(work.Actor.PrincipalId, work.Now);
                    break;
                case GrantEnding.Expired:
                    activation.Expire(work.Now);
                    break;
                case GrantEnding.RevokedByPortal:
                    activation.Revoke(null, work.Now);
                    break;
                default:
                    activation.Revoke(work.By, work.Now);
                    break;
            }

            work.Db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.RemoveGrant, activation.Id, work.Now));
            work.Audit(action, "activation", activation.Id.ToString(), AuditOutcome.Success, details, activation.PrincipalId, activation.RoleId);
            work.Announce.RolesOf(activation.PrincipalId);
        }

        work.Announce.WakeOutbox();
        await lapses.LapseExtensionsOfAsync(work, [.. ends.Select(e => e.Activation.Id)], cancellationToken);
    }

    private static void Provision(LifecycleContext work, RoleActivation activation)
    {
        work.Db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, activation.Id, work.Now));
        work.Announce.WakeOutbox();
        work.Announce.WakeExpiry();
        work.Announce.RolesOf(activation.PrincipalId);
    }
}

/// <summary>One open grant to end, how, and what its audit event says.</summary>
public sealed record GrantEnd(RoleActivation Activation, GrantEnding How, object Details);

/// <summary>How a grant ends, which names its audit event.</summary>
public enum GrantEnding
{
    /// <summary>Its holder ended it early.</summary>
    Deactivated,

    /// <summary>Its time is up.</summary>
    Expired,

    /// <summary>The portal ended it: the account is disabled, the eligibility is gone, the holder left the group.</summary>
    RevokedByPortal,

    /// <summary>A PIM administrator or an access review removed it.</summary>
    Removed,
}
