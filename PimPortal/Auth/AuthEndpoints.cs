using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using PimPortal.Core;
using PimPortal.Core.Security;

namespace PimPortal.Auth;

/// <summary>The sign-out endpoint (a POST with an antiforgery token, so no page can sign a user out by a link).</summary>
internal static class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/signout", async (HttpContext http, [FromServices] SignInManager<PortalUser> signInManager, [FromServices] SignInAudit audit, [FromServices] IAntiforgery antiforgery) =>
        {
            // The antiforgery middleware only records its verdict; an endpoint without form binding must act on it.
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.BadRequest("Sign out from the portal's own page.");
            }

            var user = http.User;
            if (user.GetPrincipalId() is { } id)
            {
                await audit.SignedOutAsync(id, user.Identity?.Name ?? "", ClientOf(http), http.RequestAborted);
            }

            await signInManager.SignOutAsync();
            return Results.LocalRedirect("/signin");
        }).AllowAnonymous();
        return endpoints;
    }

    public static ClientInfo ClientOf(HttpContext http) =>
        new(http.Connection.RemoteIpAddress?.ToString(), http.Request.Headers.UserAgent.ToString());
}

/// <summary>Keeps a sign-in's return address on this site: anything else becomes the home page.</summary>
public static class ReturnUrl
{
    public static string Safe(string? returnUrl)
    {
        if (string.IsNullOrEmpty(returnUrl)
            || returnUrl[0] != '/'
            || returnUrl.StartsWith("//", StringComparison.Ordinal)
            || returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            || returnUrl.Any(c => char.IsControl(c) || c == '\\')
            || !Uri.IsWellFormedUriString(returnUrl, UriKind.Relative))
        {
            return "/";
        }

        return returnUrl;
    }
}
