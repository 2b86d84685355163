using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Activation;

/// <summary>
/// Activates one or several of the user's eligible roles with one justification, one ticket and one MFA step-up —
/// now, or from <see cref="StartAt"/> (scheduled). All or nothing: if the policy refuses any role, nothing is written
/// but the refusal's audit event. A role that needs approval gets a pending request, and its approvers are told.
/// </summary>
public sealed record ActivateRoles(
    IReadOnlyList<ActivationItem> Items,
    string? Justification,
    string? TicketNumber,
    string? TicketSystem,
    string? AuthenticatorCode,
    DateTimeOffset? StartAt = null) : ICommand<ActivationResult>;

/// <summary>What became of each role: granted (Provisioning), or waiting for approval.</summary>
public sealed record ActivationResult(IReadOnlyList<ActivationOutcome> Items);

/// <summary>The request made for one role and, when the policy allowed it outright, the grant.</summary>
public sealed record ActivationOutcome(Guid EligibilityId, string RoleName, Guid RequestId, ActivationRequestStatus RequestStatus, Guid? ActivationId, DateTimeOffset? NotAfter);

public sealed class ActivateRolesValidator : ActivationInputValidator<ActivateRoles>
{
    public ActivateRolesValidator()
    {
        AddItemRules(x => x.Items);
        AddDetailRules(x => x.Justification, x => x.TicketNumber, x => x.TicketSystem);
        AddCodeRule(x => x.AuthenticatorCode);
    }
}

public sealed class ActivateRolesHandler(
    IDbContextFactory<PimDbContext> dbFactory,
    RequestContext context,
    IMfaStepUp stepUp,
    TimeProvider time,
    IOptions<PimOptions> options,
    JobSignals signals,
    PortalEvents events,
    Notifier notifier)
    : ICommandHandler<ActivateRoles, ActivationResult>
{
    public ValueTask<ActivationResult> Handle(ActivateRoles command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "Your roles changed meanwhile; reload and try again.");

    private async ValueTask<ActivationResult> HandleOnceAsync(ActivateRoles command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        var freshFor = options.Value.StepUp.FreshFor;
        var details = RequestDetails.From(command.Justification, command.TicketNumber, command.TicketSystem);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);

        // One connection for the reads and the save (EF would otherwise open and close it around each).
        await db.Database.OpenConnectionAsync(cancellationToken);
        var contexts = await PolicyContext.LoadAsync(db, me, [.. command.Items.Select(i => i.EligibilityId)], cancellationToken);
        var (decisions, mfaVerifiedAt) = await PolicyContext.DecideWithStepUpAsync(
            (mfaAt, codeToCheck) => [.. command.Items.Zip(contexts, (item, ctx) => ActivationPolicy.Evaluate(
                ctx.Input(now, item.Duration, details.Justification, details.TicketNumber, details.TicketSystem, mfaAt, freshFor, codeToCheck) with { Start = command.StartAt }))],
            await PolicyContext.LastMfaAsync(contexts, stepUp, db, context.Actor, cancellationToken),
            command.AuthenticatorCode, stepUp, db, context, now, cancellationToken);
        if (decisions.Any(d => d.Verdict == PolicyVerdict.Deny))
        {
            await RefuseAsync(db, command, contexts, decisions, now, cancellationToken);
        }

        var outcomes = new List<ActivationOutcome>();
        var notified = new List<Guid>();
        for (var i = 0; i < command.Items.Count; i++)
        {
            var (outcome, request) = Stage(db, contexts[i], command.Items[i].Duration, decisions[i], details, mfaVerifiedAt, command.StartAt, now);
            outcomes.Add(outcome);
            if (request.Status == ActivationRequestStatus.Pending)
            {
                notified.AddRange(await notifier.ApprovalRequestedAsync(db, request, context.Actor.DisplayName, contexts[i].RoleName, cancellationToken));
            }
            else if (outcome.ActivationId is not null)
            {
                notified.AddRange(await notifier.RoleActivatedAsync(db, request, context.Actor.DisplayName, contexts[i].RoleName, outcome.NotAfter!.Value, cancellationToken));
            }
        }

        try
        {
            // A concurrent use of the same code fails here on the MFA state's version, and the retry re-reads it.
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // Two submissions raced (a double click, a second tab): the other one was written, this one is not.
            const string raced = "This role was just activated or requested by another submission; nothing more was done.";
            await ActivationRefusals.RecordAsync(db, context, now, "eligibility", TargetOf(command), [raced], null, cancellationToken);
            throw new RefusedException(raced);
        }

        signals.Outbox.Set();
        signals.Expiry.Set();
        events.RolesChanged([me]);
        if (outcomes.Any(o => o.RequestStatus == ActivationRequestStatus.Pending))
        {
            events.ApprovalsChanged();
        }

        if (notified.Count > 0 || outcomes.Any(o => o.ActivationId is not null))
        {
            signals.Mail.Set();
            events.NotificationsChanged(notified);
        }

        return new ActivationResult(outcomes);
    }

    private (ActivationOutcome Outcome, ActivationRequest Request) Stage(
        PimDbContext db, PolicyContext ctx, TimeSpan duration, PolicyDecision decision, RequestDetails details, DateTimeOffset? mfaVerifiedAt, DateTimeOffset? start, DateTimeOffset now)
    {
        var eligibility = ctx.Eligibility!;
        var settings = eligibility.Role.Settings;
        var me = context.Actor.PrincipalId;
        var mfa = settings.RequireMfa ? mfaVerifiedAt : null;
        var request = decision.Verdict == PolicyVerdict.Allow
            ? ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, me, duration, details, now, mfa, start: start,
                requesterGroups: ctx.RequesterGroups)
            : ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, me, duration, details, now, mfa, settings.ApprovalsNeeded,
                settings.ApprovalTimeout, start: start, requesterGroups: ctx.RequesterGroups);
        db.ActivationRequests.Add(request);
        db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationRequested, "request", request.Id.ToString(), AuditOutcome.Success, new
        {
            role = ctx.RoleName,
            scope = request.Scope,
            duration = request.Duration.ToString(),
            justification = request.Justification,
            ticketNumber = request.TicketNumber,
            ticketSystem = request.TicketSystem,
            status = request.Status.ToString(),
            start = request.RequestedStart,
            approvalsNeeded = request.ApprovalsNeeded,
        }, me, request.RoleId));

        if (request.Status != ActivationRequestStatus.Approved)
        {
            return (new ActivationOutcome(ctx.EligibilityId, ctx.RoleName, request.Id, request.Status, null, null), request);
        }

        var activation = new RoleActivation(Guid.NewGuid(), request, now);
        db.Activations.Add(activation);
        db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, activation.Id, now));
        db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationGranted, "activation", activation.Id.ToString(), AuditOutcome.Success,
            new { request = request.Id, notBefore = activation.NotBefore, notAfter = activation.NotAfter, approvedBy = "policy" }, me, activation.RoleId));
        return (new ActivationOutcome(ctx.EligibilityId, ctx.RoleName, request.Id, request.Status, activation.Id, activation.NotAfter), request);
    }

    private async Task RefuseAsync(PimDbContext db, ActivateRoles command, IReadOnlyList<PolicyContext> contexts, IReadOnlyList<PolicyDecision> decisions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var reasons = contexts.Zip(decisions)
            .Where(x => x.Second.Verdict == PolicyVerdict.Deny)
            .SelectMany(x => x.Second.Violations.Select(v => contexts.Count > 1 ? $"{x.First.RoleName}: {v.Message}" : v.Message))
            .ToList();
        await ActivationRefusals.RecordAsync(db, context, now, "eligibility", TargetOf(command), reasons,
            contexts.Count == 1 ? contexts[0].Role?.Id : null, cancellationToken);
        throw ActivationRefusals.Refused("The activation was refused:", reasons);
    }

    private static string TargetOf(ActivateRoles command) => string.Join(",", command.Items.Select(i => i.EligibilityId));

}

/// <summary>Writes the audit event of a refused activation or extension — the only thing a refusal writes.</summary>
internal static class ActivationRefusals
{
    public static async Task RecordAsync(PimDbContext db, RequestContext context, DateTimeOffset now, string targetType, string targetId, IReadOnlyList<string> reasons, Guid? roleId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var target = targetId.Length > 128 ? targetId[..128] : targetId;
        db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationRefused, targetType, target, AuditOutcome.Refused, new { reasons }, context.Actor.PrincipalId, roleId));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The refusal to throw: one reason as it is, several after <paramref name="lead"/>.</summary>
    public static RefusedException Refused(string lead, IReadOnlyList<string> reasons) =>
        new(reasons.Count == 1 ? reasons[0] : $"{lead} {string.Join(" ", reasons)}", reasons);
}
