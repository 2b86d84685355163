using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using PimPortal.Core;

namespace PimPortal.Auth;

/// <summary>
/// Where the circuit's user connects from. Captured from the HTTP request that served the page (App.razor) and
/// handed to the interactive root as parameters, because inside a circuit there is no HTTP request to ask.
/// </summary>
public sealed class ClientContext
{
    public ClientInfo Info { get; private set; } = ClientInfo.Unknown;

    public void Set(string? address, string? userAgent) => Info = new ClientInfo(address, userAgent);
}

/// <summary>The signed-in user from the authentication state, which works in a circuit and while prerendering.</summary>
internal sealed class BlazorCurrentUser(AuthenticationStateProvider authentication, ClientContext client) : ICurrentUser
{
    public ClientInfo Client => client.Info;

    public async Task<ClaimsPrincipal> GetUserAsync() => (await authentication.GetAuthenticationStateAsync()).User;
}
