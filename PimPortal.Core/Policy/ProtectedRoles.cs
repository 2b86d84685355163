using PimPortal.Core.Domain;

namespace PimPortal.Core.Policy;

/// <summary>
/// The roles whose settings guard the whole tenant: Global Administrator, and Privileged Role Administrator (who can
/// give any role, Global Administrator included). A change to their settings is called out to the other PIM
/// administrators, whoever makes it.
/// </summary>
public static class ProtectedRoles
{
    /// <summary>The Entra role template id of Global Administrator.</summary>
    public const string GlobalAdministratorTemplateId = "62e90394-69f5-4237-9190-012177145e10";

    /// <summary>The Entra role template id of Privileged Role Administrator.</summary>
    public const string PrivilegedRoleAdministratorTemplateId = "e8611ab8-c189-46e8-94e1-60213ab1f814";

    public static bool IsProtected(PrivilegedRole role)
    {
        ArgumentNullException.ThrowIfNull(role);
        return role.Kind == RoleKind.DirectoryRole
            && role.ExternalId is GlobalAdministratorTemplateId or PrivilegedRoleAdministratorTemplateId;
    }
}
