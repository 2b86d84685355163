using PimPortal.Core;

namespace PimPortal.Auth;

/// <summary>What the sign-in and sign-out pages need from the request.</summary>
internal static class AuthEndpoints
{
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
