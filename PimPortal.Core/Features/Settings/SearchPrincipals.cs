using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Settings;

/// <summary>
/// Users and groups of the directory whose name or sign-in name contains <paramref name="Text"/> (at most 20), for the
/// approver, eligibility and recipient pickers.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator, PortalPermissions.GovernanceLead, PortalPermissions.Auditor)]
public sealed record SearchPrincipals(string? Text, PrincipalKind? Kind = null) : IQuery<IReadOnlyList<PrincipalRef>>;

public sealed class SearchPrincipalsHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<SearchPrincipals, IReadOnlyList<PrincipalRef>>
{
    public async ValueTask<IReadOnlyList<PrincipalRef>> Handle(SearchPrincipals query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var text = query.Text?.Trim() ?? "";
        var principals = db.Principals.AsNoTracking().Where(p => p.IsEnabled);
        if (query.Kind is { } kind)
        {
            principals = principals.Where(p => p.Kind == kind);
        }

        if (text.Length > 0)
        {
            // Case-insensitive on every engine: compare lower-cased.
            var lower = text.ToLowerInvariant();
            principals = principals.Where(p => p.DisplayName.ToLower().Contains(lower) || (p.UserPrincipalName != null && p.UserPrincipalName.ToLower().Contains(lower)));
        }

        return await principals.OrderBy(p => p.DisplayName).Take(20)
            .Select(p => new PrincipalRef(p.Id, p.DisplayName, p.Kind, p.UserPrincipalName, p.IsEnabled))
            .ToListAsync(cancellationToken);
    }
}
