using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Activation;

/// <summary>Ends one or several of the user's own open activations now; each is then removed from the directory.</summary>
public sealed record DeactivateRoles(IReadOnlyList<Guid> ActivationIds) : ICommand<int>;

public sealed class DeactivateRolesValidator : AbstractValidator<DeactivateRoles>
{
    public DeactivateRolesValidator()
    {
        RuleFor(x => x.ActivationIds).NotEmpty().WithMessage("Select at least one active role.")
            .Must(ids => ids is null || ids.Count <= 100).WithMessage("Deactivate at most 100 roles at once.")
            .Must(ids => ids is null || ids.Distinct().Count() == ids.Count).WithMessage("Each role can be selected once.");
    }
}

public sealed class DeactivateRolesHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, JobSignals signals, PortalEvents events)
    : ICommandHandler<DeactivateRoles, int>
{
    public ValueTask<int> Handle(DeactivateRoles command, CancellationToken cancellationToken) =>
        OptimisticRetry.RunAsync(() => HandleOnceAsync(command, cancellationToken), "The selected activations keep changing; reload and try again.");

    private async ValueTask<int> HandleOnceAsync(DeactivateRoles command, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = command.ActivationIds.ToList();
        var activations = await db.Activations.Include(a => a.Role)
            .Where(a => ids.Contains(a.Id) && a.PrincipalId == me)
            .ToListAsync(cancellationToken);
        if (activations.Count != ids.Count)
        {
            throw new NotFoundException(ids.Count == 1 ? "That activation is not one of yours." : "Some of the selected activations are not yours.");
        }

        var ended = activations.Where(a => !a.IsOpen).ToList();
        if (ended.Count > 0)
        {
            throw new RefusedException(string.Join(" ", ended.Select(a => $"{a.Role.DisplayName} is already {a.Status.ToString().ToLowerInvariant()}.")));
        }

        foreach (var activation in activations)
        {
            activation.Deactivate(me, now);
            db.Outbox.Add(new OutboxMessage(Guid.NewGuid(), OutboxMessageType.RemoveGrant, activation.Id, now));
            db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationDeactivated, "activation", activation.Id.ToString(), AuditOutcome.Success,
                new { role = activation.Role.DisplayName, scope = activation.Scope, notAfter = activation.NotAfter }, me, activation.RoleId));
        }

        var lapsed = await Approvals.ApprovedRequests.LapsePendingExtensionsAsync(db, [.. activations.Select(a => a.Id)], context.Actor, context.Client, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);

        signals.Outbox.Set();
        events.RolesChanged([me]);
        if (lapsed > 0)
        {
            events.ApprovalsChanged();
        }

        return activations.Count;
    }
}
