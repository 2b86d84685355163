using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Assignments;

/// <summary>
/// A PIM administrator moves the end of an eligibility that has not ended yet later (<paramref name="NewEnd"/> null:
/// permanent, where allowed). Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ExtendEligibility(Guid EligibilityId, DateTimeOffset? NewEnd, string? Justification) : ICommand;

public sealed class ExtendEligibilityValidator : AbstractValidator<ExtendEligibility>
{
    public ExtendEligibilityValidator()
    {
        RuleFor(x => x.EligibilityId).NotEmpty().WithMessage("Choose the eligibility.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class ExtendEligibilityHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Announcer announcer)
    : ICommandHandler<ExtendEligibility>
{
    public async ValueTask<Unit> Handle(ExtendEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var eligibility = await AssignmentRules.LoadEligibilityAsync(db, command.EligibilityId, cancellationToken);
        await AssignmentRules.RefuseSelfAsync(db, context, eligibility.PrincipalId, cancellationToken);
        var before = eligibility.NotAfter;
        eligibility.Role.Settings.CheckAssignmentWindow(active: false, now, command.NewEnd);
        eligibility.ExtendTo(command.NewEnd, now);
        var work = context.Begin(db, now);
        work.Audit(AuditActions.EligibilityExtended, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            new { role = eligibility.Role.DisplayName, scope = eligibility.Scope, before, after = command.NewEnd, justification = command.Justification?.Trim() },
            eligibility.PrincipalId, eligibility.RoleId);
        await AssignmentRules.SaveChangeAsync(db, cancellationToken);
        work.Announce.RolesOf(await AssignmentRules.AffectedAsync(db, eligibility.PrincipalId, cancellationToken));
        announcer.Announce(work.Announce);
        return Unit.Value;
    }
}
