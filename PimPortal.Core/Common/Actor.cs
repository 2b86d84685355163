namespace PimPortal.Core;

/// <summary>
/// Who is acting: an enabled principal of the directory, with the portal permissions they hold, in one sign-in
/// session (<see cref="SessionId"/>; null when the host knows none).
/// </summary>
public sealed record Actor(Guid PrincipalId, string DisplayName, IReadOnlySet<string> Permissions, string? SessionId = null)
{
    /// <summary>The portal itself (workers), for audit events nobody in particular caused.</summary>
    public static readonly Actor System = new(Guid.Empty, "PimPortal", new HashSet<string>());

    public bool IsSystem => PrincipalId == Guid.Empty;

    public bool Has(string permission) => Permissions.Contains(permission);
}
