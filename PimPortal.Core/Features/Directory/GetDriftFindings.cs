using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Directory;

/// <summary>The open "assigned outside the portal" alerts (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetDriftFindings : IQuery<IReadOnlyList<DriftView>>;

public sealed record DriftView(Guid Id, Guid PrincipalId, string PrincipalName, string RoleName, RoleKind Kind, string Scope, DateTimeOffset FirstSeenAt, DateTimeOffset LastSeenAt);

public sealed class GetDriftFindingsHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<GetDriftFindings, IReadOnlyList<DriftView>>
{
    public async ValueTask<IReadOnlyList<DriftView>> Handle(GetDriftFindings query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await (
                from f in db.DriftFindings.AsNoTracking()
                where f.ResolvedAt == null
                join r in db.PrivilegedRoles on f.RoleId equals r.Id
                join p in db.Principals on f.PrincipalId equals p.Id into principals
                from p in principals.DefaultIfEmpty()
                select new DriftView(f.Id, f.PrincipalId, p == null ? f.PrincipalId.ToString() : p.DisplayName, r.DisplayName, r.Kind, f.Scope, f.FirstSeenAt, f.LastSeenAt))
            .ToListAsync(cancellationToken);
        return [.. rows.OrderBy(r => r.RoleName, StringComparer.Ordinal).ThenBy(r => r.PrincipalName, StringComparer.Ordinal)];
    }
}
