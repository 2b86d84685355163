namespace PimPortal.Core;

/// <summary>The portal permissions (app roles in Entra, Identity roles in the embedded default).</summary>
public static class PortalPermissions
{
    public const string PimAdministrator = "PimAdministrator";
    public const string GovernanceLead = "GovernanceLead";
    public const string Auditor = "Auditor";

    public static readonly IReadOnlyList<string> All = [PimAdministrator, GovernanceLead, Auditor];
}
