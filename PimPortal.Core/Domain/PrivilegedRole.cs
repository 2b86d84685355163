namespace PimPortal.Core.Domain;

/// <summary>
/// A privileged role that can be activated just in time: an Entra directory role, a group membership (PIM for Groups)
/// or an Azure resource role, at a scope. Its <see cref="Settings"/> are the rules every activation is held to.
/// </summary>
public sealed class PrivilegedRole
{
    private PrivilegedRole()
    {
    }

    public PrivilegedRole(Guid id, RoleKind kind, string displayName, string externalId, string scope, RoleSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        ArgumentException.ThrowIfNullOrWhiteSpace(externalId);
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        ArgumentNullException.ThrowIfNull(settings);
        Id = id;
        Kind = kind;
        DisplayName = displayName;
        ExternalId = externalId;
        Scope = scope;
        Settings = settings;
    }

    public Guid Id { get; private set; }

    public RoleKind Kind { get; private set; }

    public string DisplayName { get; private set; } = "";

    /// <summary>
    /// What the role is in the directory: the Entra role template id of a directory role, the object id of the group
    /// of a group membership, or the Azure role definition id of a resource role.
    /// </summary>
    public string ExternalId { get; private set; } = "";

    /// <summary>
    /// Where the role applies: "/" (the whole directory) for a directory role, the group's id for a group membership,
    /// the ARM scope (e.g. /subscriptions/…/resourceGroups/rg-prod) for an Azure resource role.
    /// </summary>
    public string Scope { get; private set; } = "";

    public RoleSettings Settings { get; private set; } = null!;
}

/// <summary>The three kinds of privileged role PIM manages.</summary>
public enum RoleKind
{
    /// <summary>An Entra ID directory role (e.g. Global Administrator), keyed by its role template id.</summary>
    DirectoryRole,

    /// <summary>Membership of a group (PIM for Groups): activating it makes the principal a member for a while.</summary>
    GroupMembership,

    /// <summary>An Azure RBAC role at a resource scope (management group, subscription, resource group, resource).</summary>
    AzureResourceRole,
}
