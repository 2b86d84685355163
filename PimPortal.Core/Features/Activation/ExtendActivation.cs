using FluentValidation;
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

public sealed class ExtendActivationHandler(
    IDbContextFactory<PimDbContext> dbFactory,
    RequestContext context,
    IMfaStepUp stepUp,
    TimeProvider time,
    IOptions<PimOptions> options,
    Notifier notifier,
    Announcer announcer)
    : ICommandHandler<ExtendActivation, ExtensionResult>
{
    public ValueTask<ExtensionResult> Handle(ExtendActivation command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "This activation keeps changing (it may have ended or been extended); reload and try again.");

    private async ValueTask<ExtensionResult> HandleOnceAsync(ExtendActivation command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        var details = RequestDetails.From(command.Justification, command.TicketNumber, command.TicketSystem);

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (activation, ctx) = await ExtensionContext.LoadAsync(db, me, command.ActivationId, track: true, cancellationToken);
        var (decisions, mfaVerifiedAt) = await PolicyContext.DecideWithStepUpAsync(
            (mfaAt, codeToCheck) => [ActivationPolicy.Evaluate(ExtensionContext.Input(
                activation, ctx, now, command.Duration, details.Justification, details.TicketNumber, details.TicketSystem, mfaAt, options.Value, codeToCheck))],
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
        var work = context.Begin(db, now);
        ActivationRequest request;
        DateTimeOffset? newEnd = null;
        if (decision.Verdict == PolicyVerdict.Allow)
        {
            request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Extend, eligibility, me, command.Duration, details, now, mfa, activation.Id,
                requesterGroups: ctx.RequesterGroups);
            Grants.Extend(work, activation, now + command.Duration,
                previousEnd => new { request = request.Id, previousNotAfter = previousEnd, notAfter = now + command.Duration, justification = details.Justification });
            newEnd = activation.NotAfter;
        }
        else
        {
            request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Extend, eligibility, me, command.Duration, details, now, mfa,
                settings.ApprovalsNeeded, settings.ApprovalTimeout, activation.Id, requesterGroups: ctx.RequesterGroups);
        }

        db.ActivationRequests.Add(request);
        work.Audit(AuditActions.ActivationRequested, "request", request.Id.ToString(), AuditOutcome.Success,
            new { kind = "extend", activation = activation.Id, duration = command.Duration.ToString(), justification = details.Justification, status = request.Status.ToString() }, me, request.RoleId);
        work.Announce.RolesOf(me);
        if (request.Status == ActivationRequestStatus.Pending)
        {
            work.Announce.ApprovalsChanged();
            work.Announce.NotificationsOf(await notifier.ApprovalRequestedAsync(db, request, context.Actor.DisplayName, ctx.RoleName, cancellationToken));
            work.Announce.MailWritten();
        }

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

        announcer.Announce(work.Announce);
        return new ExtensionResult(request.Id, request.Status, newEnd);
    }
}
