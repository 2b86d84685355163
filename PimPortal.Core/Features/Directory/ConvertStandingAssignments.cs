using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// Step two: the chosen standing assignments become eligibilities (until <paramref name="EligibleUntil"/>; null: permanent
/// where the role allows it, else the longest it allows) in one transaction with their audit events, then the
/// removals of the standing assignments recorded for the outbox; they are then removed at once where the directory
/// answers (retried by the outbox where it does not). Each conversion, and each removal, is audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ConvertStandingAssignments(IReadOnlyList<StandingRef> Items, DateTimeOffset? EligibleUntil, string? Justification) : ICommand<IReadOnlyList<RolloutOutcome>>;

public sealed record StandingRef(Guid PrincipalId, Guid RoleId, string Scope);

/// <param name="Error">Why the standing assignment is still there (the eligibility is made all the same), or null.</param>
public sealed record RolloutOutcome(StandingRef Item, Guid EligibilityId, bool Removed, string? Error);

public sealed class ConvertStandingAssignmentsValidator : AbstractValidator<ConvertStandingAssignments>
{
    public ConvertStandingAssignmentsValidator()
    {
        RuleFor(x => x.Items).NotEmpty().WithMessage("Choose at least one standing assignment to convert.")
            .Must(i => i is null || i.Count <= 500).WithMessage("At most 500 at once.")
            .Must(i => i is null || i.Distinct().Count() == i.Count).WithMessage("Each assignment can be chosen once.");
        Assignments.AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class ConvertStandingAssignmentsHandler(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, RequestContext context, TimeProvider time, OutboxProcessor outbox, Announcer announcer)
    : ICommandHandler<ConvertStandingAssignments, IReadOnlyList<RolloutOutcome>>
{
    public async ValueTask<IReadOnlyList<RolloutOutcome>> Handle(ConvertStandingAssignments command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (command.EligibleUntil is { } until && until <= now)
        {
            throw new DomainRuleException("The eligibilities must end in the future.");
        }

        // What the directory says now: only a standing assignment that is still there is converted.
        var standing = (await gateway.ListHoldersAsync(cancellationToken)).Where(h => h.IsStanding).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roleIds = command.Items.Select(i => i.RoleId).Distinct().ToList();
        var roles = await db.PrivilegedRoles.AsNoTracking().Include(r => r.Settings).Where(r => roleIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        var principalIds = command.Items.Select(i => i.PrincipalId).Distinct().ToList();
        var principals = await db.Principals.AsNoTracking().Where(p => principalIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, cancellationToken);
        var findings = await db.DriftFindings.AsNoTracking().Where(f => f.ResolvedAt == null && principalIds.Contains(f.PrincipalId)).ToListAsync(cancellationToken);

        var work = context.Begin(db, now);
        var converted = new List<(StandingRef Item, RoleEligibility Eligibility, StandingRemoval Removal)>();
        foreach (var item in command.Items)
        {
            var held = standing.Find(h => h.PrincipalId == item.PrincipalId && h.RoleId == item.RoleId && h.Scope == item.Scope);
            if (held is null || !roles.TryGetValue(item.RoleId, out var role) || !principals.TryGetValue(item.PrincipalId, out var principal))
            {
                throw new RefusedException("A chosen assignment is no longer standing in the directory; import again.");
            }

            if (principal.IsBreakGlass)
            {
                throw new RefusedException($"{principal.DisplayName} is a break-glass account and keeps its standing access.");
            }

            await StandingAccess.RefuseIfActivatedAsync(work, item.PrincipalId, item.RoleId, item.Scope, cancellationToken);
            var finding = findings.Find(f => f.PrincipalId == item.PrincipalId && f.RoleId == item.RoleId && f.Scope == item.Scope);
            var (eligibility, removal) = await StandingAccess.ConvertAsync(work, new StandingAccess.Holder(item.PrincipalId, role, item.Scope, held.Since, finding),
                StandingRemovalSource.Rollout, command.EligibleUntil, command.Justification?.Trim(), cancellationToken);
            converted.Add((item, eligibility, removal));
        }

        // Every eligibility, its audit event and its removal's intent in one transaction: all of them or none.
        await db.SaveChangesAsync(cancellationToken);

        // Then the outbox removes them now — a closed page does not cancel it — and what the directory did not do yet it retries.
        var delivered = await StandingRemovals.DeliverNowAsync(db, outbox, [.. converted.Select(c => c.Removal.Id)], work.Announce);
        announcer.Announce(work.Announce);
        return [.. converted.Select(c => delivered.TryGetValue(c.Removal.Id, out var result)
            ? new RolloutOutcome(c.Item, c.Eligibility.Id, result.Removed, result.Error)
            : new RolloutOutcome(c.Item, c.Eligibility.Id, false, StandingRemovals.Queued))];
    }
}
