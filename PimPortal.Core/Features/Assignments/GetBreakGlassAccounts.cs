using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Assignments;

/// <summary>The break-glass accounts: what each holds in the directory now, and when it was last used (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetBreakGlassAccounts : IQuery<IReadOnlyList<BreakGlassAccount>>;

/// <param name="Holds">The managed roles it holds in the directory now.</param>
/// <param name="LastUsedAt">Its last sign-in or action in the portal, if any.</param>
public sealed record BreakGlassAccount(Guid Id, string DisplayName, string? UserPrincipalName, bool IsEnabled, IReadOnlyList<string> Holds, DateTimeOffset? LastUsedAt, bool HasOpenAlert);

public sealed class GetBreakGlassAccountsHandler(IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway) : IQueryHandler<GetBreakGlassAccounts, IReadOnlyList<BreakGlassAccount>>
{
    public async ValueTask<IReadOnlyList<BreakGlassAccount>> Handle(GetBreakGlassAccounts query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var accounts = await db.Principals.AsNoTracking().Where(p => p.IsBreakGlass).OrderBy(p => p.DisplayName).ToListAsync(cancellationToken);
        if (accounts.Count == 0)
        {
            return [];
        }

        var ids = accounts.Select(a => a.Id).ToList();
        var holders = await gateway.ListHoldersAsync(cancellationToken);
        var alerts = await db.Alerts.AsNoTracking().Where(a => a.Kind == AlertKind.BreakGlassUsed && a.PrincipalId != null && ids.Contains(a.PrincipalId.Value))
            .Select(a => new { a.PrincipalId, a.LastSeenAt, a.ResolvedAt })
            .ToListAsync(cancellationToken);
        return [.. accounts.Select(a => new BreakGlassAccount(
            a.Id, a.DisplayName, a.UserPrincipalName, a.IsEnabled,
            [.. holders.Where(h => h.PrincipalId == a.Id).Select(h => h.RoleName).Distinct().Order(StringComparer.Ordinal)],
            alerts.Where(x => x.PrincipalId == a.Id).Select(x => (DateTimeOffset?)x.LastSeenAt).Max(),
            alerts.Exists(x => x.PrincipalId == a.Id && x.ResolvedAt == null)))];
    }
}
