using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;

namespace PimPortal.Core.Features.Settings;

/// <summary>One role's settings as the settings form shows them (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetRoleSettings(Guid RoleId) : IQuery<RoleSettingsView>;

/// <summary>
/// A role's settings, with <see cref="Version"/> to send back with a change; <see cref="IsProtected"/>: a change needs a
/// fresh step-up and is called out to the other PIM administrators.
/// </summary>
public sealed record RoleSettingsView(Guid RoleId, string RoleName, RoleKind Kind, string Scope, Guid Version, RoleSettingsInput Settings, IReadOnlyList<PrincipalRef> Approvers, bool IsProtected);

public sealed class GetRoleSettingsHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<GetRoleSettings, RoleSettingsView>
{
    public async ValueTask<RoleSettingsView> Handle(GetRoleSettings query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var role = await db.PrivilegedRoles.AsNoTracking()
            .Include(r => r.Settings).ThenInclude(s => s.Approvers)
            .Include(r => r.Settings).ThenInclude(s => s.NotificationRules)
            .AsSplitQuery()
            .SingleOrDefaultAsync(r => r.Id == query.RoleId, cancellationToken)
            ?? throw new NotFoundException("That role does not exist.");
        var approvers = await PrincipalRef.ListAsync(db, [.. role.Settings.Approvers.Select(a => a.PrincipalId)], cancellationToken);
        return new RoleSettingsView(role.Id, role.DisplayName, role.Kind, role.Scope, role.Settings.Version, RoleSettingsInput.From(role.Settings), approvers, ProtectedRoles.IsProtected(role));
    }
}
