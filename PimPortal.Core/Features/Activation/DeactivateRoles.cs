using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Lifecycle;
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

public sealed class DeactivateRolesHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Grants grants, Announcer announcer)
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

        var work = context.Begin(db, now);
        await grants.EndAsync(work, [.. activations.Select(a => new GrantEnd(a, GrantEnding.Deactivated,
            new { role = a.Role.DisplayName, scope = a.Scope, notAfter = a.NotAfter }))], cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        announcer.Announce(work.Announce);
        return activations.Count;
    }
}
