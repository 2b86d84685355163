using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Approvals;

/// <summary>
/// An approver approves or denies a pending request (a reason is required to deny). The right to decide is read when
/// the decision is made: the approver must be enabled, named among the role's approvers (directly or through a group)
/// and not the requester. The last approval needed grants the role at once — or at the requested start.
/// </summary>
public sealed record DecideRequest(Guid RequestId, ApprovalVerdict Verdict, string? Reason) : ICommand<DecisionResult>;

/// <summary>Where the request stands after the decision.</summary>
/// <param name="ActivationId">The grant made (or extended) when this decision approved the request.</param>
/// <param name="ClosedReason">Why nothing was granted, when the approved request lapsed.</param>
public sealed record DecisionResult(Guid RequestId, ActivationRequestStatus Status, int ApprovalsGiven, int ApprovalsNeeded, Guid? ActivationId, string? ClosedReason);

public sealed class DecideRequestValidator : AbstractValidator<DecideRequest>
{
    public DecideRequestValidator()
    {
        RuleFor(x => x.RequestId).NotEmpty().WithMessage("Choose the request to decide.");
        RuleFor(x => x.Verdict).IsInEnum().WithMessage("Choose Approve or Deny.");
        RuleFor(x => x.Reason).Must(r => !string.IsNullOrWhiteSpace(r)).When(x => x.Verdict == ApprovalVerdict.Deny)
            .WithMessage("Give a reason to deny the request.");
        RuleFor(x => x.Reason).MaximumLength(ActivationRequest.MaxJustificationLength)
            .WithMessage($"The reason is too long: at most {ActivationRequest.MaxJustificationLength} characters are accepted.");
    }
}

public sealed class DecideRequestHandler(
    IDbContextFactory<PimDbContext> dbFactory,
    RequestContext context,
    TimeProvider time,
    Notifier notifier,
    ApprovedRequests approvedRequests,
    Announcer announcer)
    : ICommandHandler<DecideRequest, DecisionResult>
{
    /// <summary>The same words whether the request does not exist or is not the actor's to decide: nothing about it leaks.</summary>
    public const string NotYours = "You may not decide this request: it does not exist, or you are not (or no longer) one of its approvers.";

    public ValueTask<DecisionResult> Handle(DecideRequest command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "Other approvers keep deciding on this request; reload to see where it stands.");

    private async ValueTask<DecisionResult> HandleOnceAsync(DecideRequest command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);

        var request = await db.ActivationRequests.Include(r => r.Decisions).Include(r => r.Role)
            .SingleOrDefaultAsync(r => r.Id == command.RequestId, cancellationToken);
        var mayDecide = request is not null
            && await Approvers.RolesApprovedBy(db, me).AnyAsync(roleId => roleId == request.RoleId, cancellationToken);
        if (request is null || (!mayDecide && request.RequesterId != me))
        {
            // Not an approver (any more) of this role: refused, without telling more about a request they may not see.
            await RefuseAsync(db, command, request?.RoleId, request?.RequesterId, request is null ? "no such request" : "not an approver of the role", now, cancellationToken);
            throw new ForbiddenException(NotYours);
        }

        try
        {
            request.Decide(me, command.Verdict, command.Reason, now);
        }
        catch (DomainRuleException ex)
        {
            await RefuseAsync(db, command, request.RoleId, request.RequesterId, ex.Message, now, cancellationToken);
            throw;
        }

        var work = context.Begin(db, now);
        var given = request.Decisions.Count(d => d.Verdict == ApprovalVerdict.Approve);
        work.Audit(command.Verdict == ApprovalVerdict.Approve ? AuditActions.ApprovalGiven : AuditActions.ApprovalDenied,
            "request", request.Id.ToString(), AuditOutcome.Success,
            new { role = request.Role.DisplayName, scope = request.Scope, reason = command.Reason?.Trim(), approvalsGiven = given, approvalsNeeded = request.ApprovalsNeeded },
            request.RequesterId, request.RoleId);

        ApprovedRequests.Outcome? outcome = null;
        if (request.Status is ActivationRequestStatus.Approved or ActivationRequestStatus.Scheduled)
        {
            var approvedBy = await ApprovedRequests.ApprovedByAsync(db, request, cancellationToken);
            work.Audit(AuditActions.RequestApproved, "request", request.Id.ToString(), AuditOutcome.Success,
                new { role = request.Role.DisplayName, approvedBy, start = request.RequestedStart, scheduled = request.Status == ActivationRequestStatus.Scheduled },
                request.RequesterId, request.RoleId);
            if (request.Status == ActivationRequestStatus.Approved)
            {
                outcome = await approvedRequests.CarryOutAsync(work, request, approvedBy, cancellationToken);
            }

            var detail = outcome?.LapsedBecause
                ?? (request.Status == ActivationRequestStatus.Scheduled ? $"It starts at {request.RequestedStart:u}." : "The role is being activated now.");
            await notifier.RequestClosedAsync(db, request, request.Role.DisplayName, "approved", detail, cancellationToken);
        }
        else if (request.Status == ActivationRequestStatus.Denied)
        {
            work.Audit(AuditActions.RequestDenied, "request", request.Id.ToString(), AuditOutcome.Success,
                new { role = request.Role.DisplayName, deniedBy = context.Actor.DisplayName, reason = command.Reason?.Trim() }, request.RequesterId, request.RoleId);
            await notifier.RequestClosedAsync(db, request, request.Role.DisplayName, "denied", $"{context.Actor.DisplayName}: {command.Reason?.Trim()}", cancellationToken);
        }

        if (request.Status != ActivationRequestStatus.Pending)
        {
            await RequestLapses.RetireAsync(work, [request.Id], cancellationToken);
            work.Announce.NotificationsOf([request.RequesterId]);
        }

        try
        {
            // Two approvers at the same instant: the request's version lets one save; the other is read again and
            // decided again (a 2-of-N request then counts both; a 1-of-N one is already approved and refuses).
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // A concurrent decision got in first and the engine caught it on a unique index (the same approver's
            // second click, or the other approver's grant) before the version check: read again and decide again.
            throw new DbUpdateConcurrencyException("A concurrent decision was saved first.", ex);
        }

        work.Announce.RolesOf(request.RequesterId);
        work.Announce.ApprovalsChanged();
        work.Announce.WakeExpiry();
        announcer.Announce(work.Announce);
        return new DecisionResult(request.Id, request.Status, given, request.ApprovalsNeeded, outcome?.ActivationId, outcome?.LapsedBecause);
    }

    private async Task RefuseAsync(PimDbContext db, DecideRequest command, Guid? roleId, Guid? requesterId, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        db.AuditEvents.Add(context.Audit(now, AuditActions.ApprovalRefused, "request", command.RequestId.ToString(), AuditOutcome.Refused,
            new { verdict = command.Verdict.ToString(), reason }, requesterId, roleId));
        await db.SaveChangesAsync(cancellationToken);
    }
}
