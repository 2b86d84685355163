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
/// A PIM administrator makes a user or group eligible for a role from <paramref name="Start"/> (now when null) until
/// <paramref name="End"/> (permanent when null), as the role's eligibility rules allow. A group's eligibility applies
/// to its members. Audited; the role's notification rules are followed.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record AssignEligibility(Guid PrincipalId, Guid RoleId, DateTimeOffset? Start, DateTimeOffset? End, string? Justification) : ICommand<Guid>;

public sealed class AssignEligibilityValidator : AbstractValidator<AssignEligibility>
{
    public AssignEligibilityValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose a user or group.");
        RuleFor(x => x.RoleId).NotEmpty().WithMessage("Choose a role.");
        RuleFor(x => x).Must(x => x.End is not { } end || end > (x.Start ?? DateTimeOffset.MinValue)).WithName("End").WithMessage("The end must be after the start.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class AssignEligibilityHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, Notifier notifier, Announcer announcer)
    : ICommandHandler<AssignEligibility, Guid>
{
    public async ValueTask<Guid> Handle(AssignEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Starts.RefuseInThePast(command.Start, now);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (principal, role) = await AssignmentRules.LoadTargetAsync(db, context, command.PrincipalId, command.RoleId,
            "is disabled; enable the account before making it eligible.", cancellationToken);
        var start = Starts.Effective(command.Start, now);
        role.Settings.CheckAssignmentWindow(active: false, start, command.End);

        // One current eligibility per principal, role and scope: a second would only blur who may do what.
        if (await AssignmentRules.HasCurrentAsync(db, principal.Id, role.Id, role.Scope, now, cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} is already eligible for {role.DisplayName}; extend that eligibility instead.");
        }

        var work = context.Begin(db, now);
        await EligibilityEnds.RecordForAsync(work, principal.Id, role.Id, role.Scope, cancellationToken);
        var justification = command.Justification?.Trim();
        var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, start, command.End, context.Actor.PrincipalId, now);
        db.Eligibilities.Add(eligibility);
        work.Audit(AuditActions.EligibilityCreated, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            new { principal = principal.Label, role = role.DisplayName, scope = role.Scope, notBefore = start, notAfter = command.End, justification },
            principal.Id, role.Id);
        work.Announce.NotificationsOf(await notifier.RoleEventAsync(db, role.Id, RoleNotificationEvent.EligibilityAssigned, principal.Id,
            $"{principal.Label} is now eligible for {role.DisplayName}",
            $"{context.Actor.DisplayName} made {principal.Label} eligible for {role.DisplayName} ({role.Scope}) from {start:u} {(command.End is { } end ? $"until {end:u}" : "permanently")}.\nJustification: {justification}",
            "/", cancellationToken));
        work.Announce.MailWritten();
        await AssignmentRules.SaveNewAsync(db, principal.DisplayName, role.DisplayName, cancellationToken);
        work.Announce.RolesOf(await AssignmentRules.AffectedAsync(db, principal.Id, cancellationToken));
        announcer.Announce(work.Announce);
        return eligibility.Id;
    }
}
