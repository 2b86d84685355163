namespace PimPortal.Hardening;

/// <summary>
/// The headers every response carries: a strict Content-Security-Policy that Blazor Server and MudBlazor work under,
/// no MIME sniffing, no referrer, no powerful browser features, no framing. (HSTS is ASP.NET Core's own, over HTTPS.)
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>
    /// Scripts only from the portal's own files — no inline script, no eval (the import map Blazor would inline is
    /// left out: every script is referenced by its fingerprinted path). Styles also inline: MudBlazor writes style
    /// attributes and its theme's &lt;style&gt; element from the circuit, which a nonce cannot reach (measured: the
    /// page walk reports violations on every page without it — docs/security.md). The circuit's WebSocket is 'self'.
    /// The base URI 'self', not 'none': Blazor's router and every relative link resolve against &lt;base href="/"&gt;
    /// (measured: with 'none' a page under /requests/ loads its scripts from /requests/_framework/ and never starts).
    /// </summary>
    public static string ContentSecurityPolicy(IEnumerable<string> formTargets) =>
        string.Join("; ",
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-src 'none'",
            "worker-src 'none'",
            "manifest-src 'self'",
            "frame-ancestors 'none'",
            "form-action " + string.Join(' ', new[] { "'self'" }.Concat(formTargets)),
            "base-uri 'self'");

    /// <summary>Features the portal never uses, switched off for it and anything it might embed.</summary>
    public const string PermissionsPolicy =
        "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), " +
        "midi=(), payment=(), publickey-credentials-get=(self), usb=(), serial=(), hid=(), bluetooth=(), xr-spatial-tracking=()";

    /// <summary>
    /// Adds the headers to every response. <paramref name="formTargets"/>: origins besides the portal that a form may
    /// lead to (Entra's sign-in host, where signing out redirects).
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, IEnumerable<string> formTargets)
    {
        var policy = ContentSecurityPolicy(formTargets);
        return app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = policy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Permissions-Policy"] = PermissionsPolicy;
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            return next(context);
        });
    }
}
