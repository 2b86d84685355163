namespace PimPortal.Core.Directory.Graph;

/// <summary>Section <c>Pim:Graph</c>: how the portal writes grants to Microsoft Graph (Entra mode).</summary>
public sealed class GraphDirectoryOptions
{
    public const string Section = "Pim:Graph";

    /// <summary>The tenant the portal's app registration lives in.</summary>
    public string? TenantId { get; set; }

    /// <summary>The app registration's client id.</summary>
    public string? ClientId { get; set; }

    /// <summary>Its client secret (prefer a certificate or a managed identity where the platform offers one).</summary>
    public string? ClientSecret { get; set; }

    /// <summary>Graph's address, with its version (a national cloud, or a stub in tests).</summary>
    public Uri BaseUrl { get; set; } = new("https://graph.microsoft.com/v1.0");

    /// <summary>Azure Resource Manager's address, for Azure resource roles (a sovereign cloud's, or a stub in tests).</summary>
    public Uri ArmUrl { get; set; } = new("https://management.azure.com");

    /// <summary>How directory roles are granted: <c>Direct</c> (Entra ID P1) or <c>PimSchedule</c> (P2).</summary>
    public DirectoryRoleMode DirectoryRoles { get; set; } = DirectoryRoleMode.Direct;

    /// <summary>How group memberships are granted: plain <c>Membership</c>, or <c>PimForGroups</c> (P2).</summary>
    public GroupGrantMode Groups { get; set; } = GroupGrantMode.Membership;

    /// <summary>How long one Graph call may take before it counts as ambiguous (and is reconciled by reading back).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many changes of one batch go to Graph at once.</summary>
    public int Parallelism { get; set; } = 4;
}

/// <summary>How a directory role is granted in Entra.</summary>
public enum DirectoryRoleMode
{
    /// <summary>
    /// A role assignment (<c>roleManagement/directory/roleAssignments</c>) created and deleted by the portal, which
    /// enforces the end. Works on Entra ID P1.
    /// </summary>
    Direct,

    /// <summary>
    /// A PIM assignment schedule request (<c>adminAssign</c> with an expiration, <c>adminRemove</c>): Entra enforces
    /// the end as well. Needs Entra ID P2.
    /// </summary>
    PimSchedule,
}

/// <summary>How a group membership (PIM for Groups role) is granted.</summary>
public enum GroupGrantMode
{
    /// <summary>Plain membership (<c>groups/{id}/members/$ref</c>), added and removed by the portal.</summary>
    Membership,

    /// <summary>A PIM for Groups assignment schedule request with an expiration.</summary>
    PimForGroups,
}
