using FluentValidation;
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
/// Extends one of the user's open activations so it ends <see cref="Duration"/> from now (within the role's maximum),
/// under the same policy as an activation. For a role that requires approval the extension is itself a request.
/// </summary>
public sealed record ExtendActivation(
    Guid ActivationId,
    TimeSpan Duration,
    string? Justification,
    string? TicketNumber,
    string? TicketSystem,
    string? AuthenticatorCode) : ICommand<ExtensionResult>;

/// <summary>The extension request and, when the policy allowed it outright, the new end.</summary>
public sealed record ExtensionResult(Guid RequestId, ActivationRequestStatus RequestStatus, DateTimeOffset? NewNotAfter);

/// <summary>The dry run of <see cref="ExtendActivation"/>.</summary>
public sealed record PreviewExtension(Guid ActivationId, TimeSpan Duration, string? Justification, string? TicketNumber, string? TicketSystem, bool CodeEntered)
    : IQuery<ActivationPreview>;

public sealed class ExtendActivationValidator : ActivationInputValidator<ExtendActivation>
{
    public ExtendActivationValidator()
    {
        RuleFor(x => x.ActivationId).NotEmpty().WithMessage("Choose the activation to extend.");
        AddDurationRule(RuleFor(x => x.Duration));
        AddDetailRules(x => x.Justification, x => x.TicketNumber, x => x.TicketSystem);
        AddCodeRule(x => x.AuthenticatorCode);
    }
}

public sealed class PreviewExtensionValidator : ActivationInputValidator<PreviewExtension>
{
    public PreviewExtensionValidator()
    {
        RuleFor(x => x.ActivationId).NotEmpty().WithMessage("Choose the activation to extend.");
        AddDurationRule(RuleFor(x => x.Duration));
        AddDetailRules(x => x.Justification, x => x.TicketNumber, x => x.TicketSystem);
    }
}

/// <summary>Reads an activation of the actor and the policy context of its eligibility, for an extension.</summary>
internal static class ExtensionContext
{
    public static async Task<(RoleActivation Activation, PolicyContext Context)> LoadAsync(PimDbContext db, Guid me, Guid activationId, bool track, CancellationToken cancellationToken)
    {
        var query = track ? db.Activations : db.Activations.AsNoTracking();
        var activation = await query.SingleOrDefaultAsync(a => a.Id == activationId && a.PrincipalId == me, cancellationToken)
            ?? throw new NotFoundException("That activation is not one of yours.");
        if (activation.EligibilityId is not { } eligibilityId)
        {
            throw new RefusedException("This role was assigned to you active by a PIM administrator; ask them to extend the assignment.");
        }

        var ctx = (await PolicyContext.LoadAsync(db, me, [eligibilityId], cancellationToken))[0];
        return (activation, ctx);
    }

    public static ActivationPolicyInput Input(
        RoleActivation activation, PolicyContext ctx, DateTimeOffset now, TimeSpan duration, string? justification, string? ticketNumber,
        string? ticketSystem, DateTimeOffset? mfaVerifiedAt, TimeSpan freshFor, bool codeEntered = false) =>
        ctx.Input(now, duration, justification, ticketNumber, ticketSystem, mfaVerifiedAt, freshFor, codeEntered) with
        {
            Kind = ActivationRequestKind.Extend,
            CurrentNotAfter = activation.NotAfter,
            HasOpenActivation = activation.IsOpen,
            HasPendingRequest = ctx.HasPendingExtension,
        };
}

public sealed class PreviewExtensionHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, IMfaStepUp stepUp, TimeProvider time, IOptions<PimOptions> options)
    : IQueryHandler<PreviewExtension, ActivationPreview>
{
    public async ValueTask<ActivationPreview> Handle(PreviewExtension query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (activation, ctx) = await ExtensionContext.LoadAsync(db, me, query.ActivationId, track: false, cancellationToken);
        var lastMfa = await PolicyContext.LastMfaAsync([ctx], stepUp, db, context.Actor, cancellationToken);
        var decision = ActivationPolicy.Evaluate(ExtensionContext.Input(
            activation, ctx, now, query.Duration, query.Justification, query.TicketNumber, query.TicketSystem, lastMfa, options.Value.StepUp.FreshFor, query.CodeEntered));
        var settings = ctx.Role?.Settings;
        return new ActivationPreview(
            [new ItemPreview(ctx.EligibilityId, ctx.RoleName, decision)],
            NeedsMfaCode: decision.NeedsMfaProof,
            NeedsJustification: settings?.RequireJustification ?? false,
            NeedsTicket: settings?.RequireTicket ?? false,
            MaxDuration: ctx.LongestAllowed(now));
    }
}

public sealed class ExtendActivationHandler(
    IDbContextFactory<PimDbContext> dbFactory,
    RequestContext context,
    IMfaStepUp stepUp,
    TimeProvider time,
    IOptions<PimOptions> options,
    JobSignals signals,
    PortalEvents events,
    Notifier notifier)
    : ICommandHandler<ExtendActivation, ExtensionResult>
{
    public ValueTask<ExtensionResult> Handle(ExtendActivation command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "This activation keeps changing (it may have ended or been extended); reload and try again.");

    private async ValueTask<ExtensionResult> HandleOnceAsync(ExtendActivation command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        var freshFor = options.Value.StepUp.FreshFor;
        var details = RequestDetails.From(command.Justification, command.TicketNumber, command.TicketSystem);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (activation, ctx) = await ExtensionContext.LoadAsync(db, me, command.ActivationId, track: true, cancellationToken);
        var (decisions, mfaVerifiedAt) = await PolicyContext.DecideWithStepUpAsync(
            (mfaAt, codeToCheck) => [ActivationPolicy.Evaluate(ExtensionContext.Input(
                activation, ctx, now, command.Duration, details.Justification, details.TicketNumber, details.TicketSystem, mfaAt, freshFor, codeToCheck))],
            await PolicyContext.LastMfaAsync([ctx], stepUp, db, context.Actor, cancellationToken),
            command.AuthenticatorCode, stepUp, db, context, now, cancellationToken);
        var decision = decisions[0];
        if (decision.Verdict == PolicyVerdict.Deny)
        {
            var reasons = decision.Violations.Select(v => v.Message).ToList();
            await ActivationRefusals.RecordAsync(db, context, now, "activation", activation.Id.ToString(), reasons, activation.RoleId, cancellationToken);
            throw ActivationRefusals.Refused("The extension was refused:", reasons);
        }

        var eligibility = ctx.Eligibility!;
        var settings = eligibility.Role.Settings;
        var mfa = settings.RequireMfa ? mfaVerifiedAt : null;
        ActivationRequest request;
        DateTimeOffset? newEnd = null;
        if (decision.Verdict == PolicyVerdict.Allow)
        {
            request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Extend, eligibility, me, command.Duration, details, now, mfa, activation.Id,
                requesterGroups: ctx.RequesterGroups);
            var previousEnd = activation.NotAfter;
            activation.Extend(now + command.Duration, now);
            newEnd = activation.NotAfter;
            db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ExtendGrant, activation.Id, now));
            db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationExtended, "activation", activation.Id.ToString(), AuditOutcome.Success,
                new { request = request.Id, previousNotAfter = previousEnd, notAfter = newEnd, justification = details.Justification }, me, activation.RoleId));
        }
        else
        {
            request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Extend, eligibility, me, command.Duration, details, now, mfa,
                settings.ApprovalsNeeded, settings.ApprovalTimeout, activation.Id, requesterGroups: ctx.RequesterGroups);
        }

        db.ActivationRequests.Add(request);
        db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationRequested, "request", request.Id.ToString(), AuditOutcome.Success,
            new { kind = "extend", activation = activation.Id, duration = command.Duration.ToString(), justification = details.Justification, status = request.Status.ToString() }, me, request.RoleId));
        var notified = request.Status == ActivationRequestStatus.Pending
            ? await notifier.ApprovalRequestedAsync(db, request, context.Actor.DisplayName, ctx.RoleName, cancellationToken)
            : [];

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            const string raced = "An extension of this activation was just requested by another submission; nothing more was done.";
            await ActivationRefusals.RecordAsync(db, context, now, "activation", activation.Id.ToString(), [raced], activation.RoleId, cancellationToken);
            throw new RefusedException(raced);
        }

        signals.Outbox.Set();
        signals.Expiry.Set();
        events.RolesChanged([me]);
        if (request.Status == ActivationRequestStatus.Pending)
        {
            signals.Mail.Set();
            events.ApprovalsChanged();
            events.NotificationsChanged(notified);
        }

        return new ExtensionResult(request.Id, request.Status, newEnd);
    }
}
