using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Settings;

/// <summary>
/// Every managed role with the gist of its settings (PIM administrators); with <paramref name="WithCounts"/> also how
/// many are eligible for it and hold it now (a pass over the eligibilities: leave it out where only names are needed).
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator, PortalPermissions.Auditor, PortalPermissions.GovernanceLead)]
public sealed record ListRoleSettings(bool WithCounts = true) : IQuery<IReadOnlyList<RoleSummary>>;

public sealed record RoleSummary(
    Guid RoleId, string RoleName, RoleKind Kind, string Scope, TimeSpan MaxActivationDuration, bool RequireMfa, bool RequireJustification,
    bool RequireTicket, bool RequireApproval, int ApprovalsNeeded, int Eligible, int Active);

public sealed class ListRoleSettingsHandler(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time) : IQueryHandler<ListRoleSettings, IReadOnlyList<RoleSummary>>
{
    public async ValueTask<IReadOnlyList<RoleSummary>> Handle(ListRoleSettings query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = query.WithCounts ? await RoleCounts.ReadAsync(db, now, now, cancellationToken) : new Dictionary<Guid, RoleTally>();
        var rows = await db.PrivilegedRoles.AsNoTracking()
            .Select(r => new RoleSummary(
                r.Id, r.DisplayName, r.Kind, r.Scope, r.Settings.MaxActivationDuration, r.Settings.RequireMfa, r.Settings.RequireJustification,
                r.Settings.RequireTicket, r.Settings.RequireApproval, r.Settings.ApprovalsNeeded, 0, 0))
            .ToListAsync(cancellationToken);
        rows = [.. rows.Select(r => r with { Eligible = counts.Of(r.RoleId).Eligible, Active = counts.Of(r.RoleId).Active })];
        return [.. rows.OrderBy(r => r.Kind).ThenBy(r => r.RoleName, StringComparer.Ordinal).ThenBy(r => r.Scope, StringComparer.Ordinal)];
    }
}
