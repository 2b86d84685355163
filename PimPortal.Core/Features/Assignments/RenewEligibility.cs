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
/// A PIM administrator renews an eligibility that has ended: a new one from now until <paramref name="NewEnd"/>, for the
/// same principal, role and scope. Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record RenewEligibility(Guid EligibilityId, DateTimeOffset? NewEnd, string? Justification) : ICommand<Guid>;

public sealed class RenewEligibilityValidator : AbstractValidator<RenewEligibility>
{
    public RenewEligibilityValidator()
    {
        RuleFor(x => x.EligibilityId).NotEmpty().WithMessage("Choose the eligibility.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class RenewEligibilityHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Announcer announcer)
    : ICommandHandler<RenewEligibility, Guid>
{
    public async ValueTask<Guid> Handle(RenewEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ended = await AssignmentRules.LoadEligibilityAsync(db, command.EligibilityId, cancellationToken);
        await AssignmentRules.RefuseSelfAsync(db, context, ended.PrincipalId, cancellationToken);
        if (ended.IsCurrentAt(now))
        {
            throw new DomainRuleException("This eligibility has not ended; extend it instead.");
        }

        var principal = await db.Principals.AsNoTracking().SingleAsync(p => p.Id == ended.PrincipalId, cancellationToken);
        if (!principal.IsEnabled)
        {
            throw new DomainRuleException($"{principal.DisplayName} is disabled; enable the account before renewing.");
        }

        if (await AssignmentRules.HasCurrentAsync(db, ended.PrincipalId, ended.RoleId, ended.Scope, now, cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} is eligible for {ended.Role.DisplayName} again already.");
        }

        ended.Role.Settings.CheckAssignmentWindow(active: false, now, command.NewEnd);
        var work = context.Begin(db, now);
        await EligibilityEnds.RecordForAsync(work, ended.PrincipalId, ended.RoleId, ended.Scope, cancellationToken);
        var renewed = new RoleEligibility(Guid.NewGuid(), ended.PrincipalId, ended.RoleId, ended.Scope, now, command.NewEnd, context.Actor.PrincipalId, now);
        db.Eligibilities.Add(renewed);
        work.Audit(AuditActions.EligibilityRenewed, "eligibility", renewed.Id.ToString(), AuditOutcome.Success,
            new { role = ended.Role.DisplayName, scope = ended.Scope, renews = ended.Id, notAfter = command.NewEnd, justification = command.Justification?.Trim() },
            ended.PrincipalId, ended.RoleId);
        await AssignmentRules.SaveNewAsync(db, principal.DisplayName, ended.Role.DisplayName, cancellationToken);
        work.Announce.RolesOf(await AssignmentRules.AffectedAsync(db, ended.PrincipalId, cancellationToken));
        announcer.Announce(work.Announce);
        return renewed.Id;
    }
}
