using Microsoft.AspNetCore.Authentication.Cookies;

namespace PimPortal.Hardening;

/// <summary>
/// The session cookie over HTTPS (directly or behind a proxy that says so): named <c>__Host-…</c>, Secure, path /,
/// no domain — a sibling subdomain can neither read nor plant it. Over plain HTTP (local development) it keeps
/// its plain name, as a browser refuses a <c>__Host-</c> cookie there.
/// </summary>
internal sealed class HostPrefixedCookies : ICookieManager
{
    private const string Prefix = "__Host-";
    private readonly ChunkingCookieManager inner = new();

    public string? GetRequestCookie(HttpContext context, string key) => inner.GetRequestCookie(context, Name(context, key));

    public void AppendResponseCookie(HttpContext context, string key, string? value, CookieOptions options) =>
        inner.AppendResponseCookie(context, Name(context, key), value, Harden(context, options));

    public void DeleteCookie(HttpContext context, string key, CookieOptions options) =>
        inner.DeleteCookie(context, Name(context, key), Harden(context, options));

    private static string Name(HttpContext context, string key) => context.Request.IsHttps ? Prefix + key : key;

    private static CookieOptions Harden(HttpContext context, CookieOptions options)
    {
        if (context.Request.IsHttps)
        {
            options.Secure = true;
            options.Path = "/";
            options.Domain = null;
        }

        return options;
    }
}
