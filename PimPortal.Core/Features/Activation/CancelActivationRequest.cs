using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Activation;

/// <summary>The requester withdraws one of their requests while it is still pending (or scheduled, not yet started).</summary>
public sealed record CancelActivationRequest(Guid RequestId) : ICommand;

public sealed class CancelActivationRequestValidator : AbstractValidator<CancelActivationRequest>
{
    public CancelActivationRequestValidator() =>
        RuleFor(x => x.RequestId).NotEmpty().WithMessage("Choose the request to cancel.");
}

public sealed class CancelActivationRequestHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Announcer announcer)
    : ICommandHandler<CancelActivationRequest>
{
    public ValueTask<Unit> Handle(CancelActivationRequest command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "The request keeps changing; reload to see its outcome.");

    private async ValueTask<Unit> HandleOnceAsync(CancelActivationRequest command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var request = await db.ActivationRequests.Include(r => r.Role)
            .SingleOrDefaultAsync(r => r.Id == command.RequestId && r.RequesterId == me, cancellationToken)
            ?? throw new NotFoundException("That request is not one of yours.");
        var work = context.Begin(db, now);
        request.Cancel(me, now);
        await RequestLapses.RetireAsync(work, [request.Id], cancellationToken);
        work.Audit(AuditActions.RequestCancelled, "request", request.Id.ToString(), AuditOutcome.Success,
            new { role = request.Role.DisplayName, scope = request.Scope, kind = request.Kind.ToString() }, me, request.RoleId);
        work.Announce.RolesOf(me);
        await db.SaveChangesAsync(cancellationToken);
        announcer.Announce(work.Announce);
        return Unit.Value;
    }
}
