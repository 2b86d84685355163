using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// The rollout's first move, step one: reads the standing assignments of the managed roles from the directory now
/// (not from the last drift scan), each with whether it can be converted (PIM administrators).
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ImportStandingAssignments : IQuery<IReadOnlyList<StandingAssignment>>;

/// <param name="Blocker">Why it cannot be converted (a break-glass account, a grant of the portal), or null.</param>
public sealed record StandingAssignment(
    Guid PrincipalId, string PrincipalName, Guid RoleId, string RoleName, RoleKind Kind, string Scope, DateTimeOffset Since,
    bool IsBreakGlass, bool AlreadyEligible, string? Blocker)
{
    public bool CanConvert => Blocker is null;
}

/// <summary>
/// Step two: the chosen standing assignments become eligibilities (until <paramref name="EligibleUntil"/>; null: permanent
/// where the role allows it, else the longest it allows) in one transaction with their audit events, then the
/// standing assignments are removed from the directory. Each conversion is audited with its outcome.
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

public sealed class RolloutHandlers(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, RequestContext context, TimeProvider time, PortalEvents events)
    : IQueryHandler<ImportStandingAssignments, IReadOnlyList<StandingAssignment>>,
      ICommandHandler<ConvertStandingAssignments, IReadOnlyList<RolloutOutcome>>
{
    public async ValueTask<IReadOnlyList<StandingAssignment>> Handle(ImportStandingAssignments query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var standing = (await gateway.ListHoldersAsync(cancellationToken)).Where(h => h.IsStanding).DistinctBy(h => (h.PrincipalId, h.RoleId, h.Scope)).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = standing.Select(h => h.PrincipalId).Distinct().ToList();
        var breakGlass = await db.Principals.AsNoTracking().Where(p => ids.Contains(p.Id) && p.IsBreakGlass).Select(p => p.Id).ToListAsync(cancellationToken);
        var eligible = await db.Eligibilities.AsNoTracking().Where(e => ids.Contains(e.PrincipalId) && e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now))
            .Select(e => new { e.PrincipalId, e.RoleId, e.Scope }).ToListAsync(cancellationToken);
        return [.. standing
            .Select(h =>
            {
                var isBreakGlass = breakGlass.Contains(h.PrincipalId);
                return new StandingAssignment(h.PrincipalId, h.PrincipalName, h.RoleId, h.RoleName, h.Kind, h.Scope, h.Since, isBreakGlass,
                    eligible.Exists(e => e.PrincipalId == h.PrincipalId && e.RoleId == h.RoleId && e.Scope == h.Scope),
                    isBreakGlass ? "A break-glass account keeps its standing access." : null);
            })
            .OrderBy(s => s.RoleName, StringComparer.Ordinal).ThenBy(s => s.PrincipalName, StringComparer.Ordinal)];
    }

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
        var findings = await db.DriftFindings.Where(f => f.ResolvedAt == null && principalIds.Contains(f.PrincipalId)).ToListAsync(cancellationToken);

        var holders = new List<(StandingRef Item, StandingAccess.Holder Holder, RoleEligibility Eligibility, DriftFinding? Finding)>();
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

            await StandingAccess.RefuseIfActivatedAsync(db, item.PrincipalId, item.RoleId, item.Scope, cancellationToken);
            var finding = findings.Find(f => f.PrincipalId == item.PrincipalId && f.RoleId == item.RoleId && f.Scope == item.Scope);
            var holder = new StandingAccess.Holder(finding?.Id ?? Guid.NewGuid(), item.PrincipalId, role, item.Scope, held.Since);
            var eligibility = await StandingAccess.EnsureEligibleAsync(db, context, holder, command.EligibleUntil, command.Justification, "rollout from standing access", now, cancellationToken);
            holders.Add((item, holder, eligibility, finding));
        }

        // Every eligibility, with its audit event, in one transaction: all of them or none.
        await db.SaveChangesAsync(cancellationToken);

        var results = await StandingAccess.RemoveAsync(gateway, [.. holders.Select(h => h.Holder)], now);
        var outcomes = new List<RolloutOutcome>();
        foreach (var ((item, holder, eligibility, finding), result) in holders.Zip(results))
        {
            var removed = result.Outcome == DirectoryChangeOutcome.Done;
            if (removed)
            {
                finding?.Resolve(now, $"converted to an eligibility by {context.Actor.DisplayName} (rollout)");
            }

            db.AuditEvents.Add(context.Audit(now, AuditActions.RolloutConverted, "eligibility", eligibility.Id.ToString(), removed ? AuditOutcome.Success : AuditOutcome.Failed,
                new { role = holder.Role.DisplayName, scope = item.Scope, removedFromDirectory = removed, error = result.Error, justification = command.Justification?.Trim() },
                item.PrincipalId, item.RoleId));
            outcomes.Add(new RolloutOutcome(item, eligibility.Id, removed, removed ? null : result.Error ?? result.Outcome.ToString()));
        }

        await db.SaveChangesAsync(CancellationToken.None);
        events.RolesChanged(principalIds);
        events.AlertsChanged();
        return outcomes;
    }
}
