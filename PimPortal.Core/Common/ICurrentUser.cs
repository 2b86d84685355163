using System.Security.Claims;

namespace PimPortal.Core;

/// <summary>
/// The signed-in user as the host sees it: in a Blazor circuit from the authentication state, in an HTTP request
/// from the request's user. The web host implements it; Core never reads HTTP itself.
/// </summary>
public interface ICurrentUser
{
    Task<ClaimsPrincipal> GetUserAsync();

    ClientInfo Client { get; }
}
