using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

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

public sealed class ImportStandingAssignmentsHandler(IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, TimeProvider time)
    : IQueryHandler<ImportStandingAssignments, IReadOnlyList<StandingAssignment>>
{
    public async ValueTask<IReadOnlyList<StandingAssignment>> Handle(ImportStandingAssignments query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var standing = (await gateway.ListHoldersAsync(cancellationToken)).Where(h => h.IsStanding).DistinctBy(h => (h.PrincipalId, h.RoleId, h.Scope)).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ids = standing.Select(h => h.PrincipalId).Distinct().ToList();
        var breakGlass = await db.Principals.AsNoTracking().Where(p => ids.Contains(p.Id) && p.IsBreakGlass).Select(p => p.Id).ToListAsync(cancellationToken);
        var eligible = await db.Eligibilities.AsNoTracking().Where(RoleEligibility.Current.At(now)).Where(e => ids.Contains(e.PrincipalId))
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
}
