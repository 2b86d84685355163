using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
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
    Grants grants,
    Notifier notifier,
    Announcer announcer)
    : ICommandHandler<ActivateRoles, ActivationResult>
{
    public ValueTask<ActivationResult> Handle(ActivateRoles command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "Your roles changed meanwhile; reload and try again.");

    private async ValueTask<ActivationResult> HandleOnceAsync(ActivateRoles command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        var details = RequestDetails.From(command.Justification, command.TicketNumber, command.TicketSystem);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);

        // One connection for the reads and the save (EF would otherwise open and close it around each).
        await db.Database.OpenConnectionAsync(cancellationToken);
        var contexts = await PolicyContext.LoadAsync(db, me, [.. command.Items.Select(i => i.EligibilityId)], cancellationToken);
        var (decisions, mfaVerifiedAt) = await PolicyContext.DecideWithStepUpAsync(
            (mfaAt, codeToCheck) => [.. command.Items.Zip(contexts, (item, ctx) => ActivationPolicy.Evaluate(
                ctx.Input(now, item.Duration, details.Justification, details.TicketNumber, details.TicketSystem, mfaAt, options.Value, codeToCheck) with { Start = command.StartAt }))],
            await PolicyContext.LastMfaAsync(contexts, stepUp, db, context.Actor, cancellationToken),
            command.AuthenticatorCode, stepUp, db, context, now, cancellationToken);
        if (decisions.Any(d => d.Verdict == PolicyVerdict.Deny))
        {
            await RefuseAsync(db, command, contexts, decisions, now, cancellationToken);
        }

        var work = context.Begin(db, now);
        var outcomes = new List<ActivationOutcome>();
        for (var i = 0; i < command.Items.Count; i++)
        {
            outcomes.Add(await StageAsync(work, contexts[i], command.Items[i].Duration, decisions[i], details, mfaVerifiedAt, command.StartAt, cancellationToken));
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

        announcer.Announce(work.Announce);
        return new ActivationResult(outcomes);
    }

    /// <summary>
    /// The request for one role and, when the policy allowed it outright and it starts now, its grant; a request that
    /// waits for approval tells its approvers.
    /// </summary>
    private async Task<ActivationOutcome> StageAsync(
        LifecycleContext work, PolicyContext ctx, TimeSpan duration, PolicyDecision decision, RequestDetails details, DateTimeOffset? mfaVerifiedAt, DateTimeOffset? start,
        CancellationToken cancellationToken)
    {
        var eligibility = ctx.Eligibility!;
        var settings = eligibility.Role.Settings;
        var me = work.Actor.PrincipalId;
        var now = work.Now;
        var mfa = settings.RequireMfa ? mfaVerifiedAt : null;
        var request = decision.Verdict == PolicyVerdict.Allow
            ? ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, me, duration, details, now, mfa, start: start,
                requesterGroups: ctx.RequesterGroups)
            : ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, me, duration, details, now, mfa, settings.ApprovalsNeeded,
                settings.ApprovalTimeout, start: start, requesterGroups: ctx.RequesterGroups);
        work.Db.ActivationRequests.Add(request);
        work.Audit(AuditActions.ActivationRequested, "request", request.Id.ToString(), AuditOutcome.Success, new
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
        }, me, request.RoleId);
        work.Announce.RolesOf(me);
        work.Announce.WakeExpiry();
        if (request.Status == ActivationRequestStatus.Pending)
        {
            work.Announce.ApprovalsChanged();
            work.Announce.NotificationsOf(await notifier.ApprovalRequestedAsync(work.Db, request, work.Actor.DisplayName, ctx.RoleName, cancellationToken));
        }

        if (request.Status != ActivationRequestStatus.Approved)
        {
            return new ActivationOutcome(ctx.EligibilityId, ctx.RoleName, request.Id, request.Status, null, null);
        }

        var activation = await grants.GrantAsync(work, request, work.Actor.DisplayName, ctx.RoleName, "policy", null, cancellationToken);
        return new ActivationOutcome(ctx.EligibilityId, ctx.RoleName, request.Id, request.Status, activation.Id, activation.NotAfter);
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
