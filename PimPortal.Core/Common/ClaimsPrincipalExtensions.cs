using System.Security.Claims;

namespace PimPortal.Core;

/// <summary>Reads the directory object id and display name from a signed-in user's claims.</summary>
public static class ClaimsPrincipalExtensions
{
    /// <summary>Entra's object id claim.</summary>
    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>The sign-in session claim: the portal's own in the embedded default, Entra's "sid" in production.</summary>
    public const string SessionClaim = "pim:sid";

    public static string? GetSessionId(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(SessionClaim) ?? user.FindFirstValue("sid");
    }

    public static Guid? GetPrincipalId(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var value = user.FindFirstValue(ObjectIdClaim) ?? user.FindFirstValue("oid") ?? user.FindFirstValue(ClaimTypes.NameIdentifier);
        return Guid.TryParse(value, out var id) ? id : null;
    }
}
