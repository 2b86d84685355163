using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// The PIM administrators the portal can name: local accounts holding the permission, and Entra users who last signed
/// in with it (their app roles are recorded at sign-in). Enabled users only.
/// </summary>
internal static class PortalAdministrators
{
    public static IQueryable<Principal> Of(PimDbContext db) =>
        db.Principals.AsNoTracking().Where(p => p.IsEnabled && p.Kind == PrincipalKind.User
            && (db.UserRoles.Any(ur => ur.UserId == p.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == PortalPermissions.PimAdministrator))
                || (p.PortalPermissions != null && p.PortalPermissions.Contains(PortalPermissions.PimAdministrator))));
}
