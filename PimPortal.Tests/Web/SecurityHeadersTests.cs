using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

/// <summary>
/// Every response carries the hardening headers (a strict Content-Security-Policy, no sniffing, no referrer, no
/// framing, no powerful features); over HTTPS also HSTS, and the session cookie is <c>__Host-</c> prefixed and Secure.
/// (ContentSecurityPolicyTests walks every page in Chromium under the policy.)
/// </summary>
public sealed class SecurityHeadersTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory factory;

    public SecurityHeadersTests(PortalFactory factory) => this.factory = factory;

    [Theory]
    [InlineData("/signin", HttpStatusCode.OK)]
    [InlineData("/", HttpStatusCode.Redirect)]
    [InlineData("/app.css", HttpStatusCode.OK)]
    [InlineData("/healthz", HttpStatusCode.OK)]
    public async Task EveryResponse_CarriesTheHardeningHeaders(string path, HttpStatusCode status)
    {
        var response = await factory.Browser().GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var directives = policy.Split(';', StringSplitOptions.TrimEntries).ToDictionary(d => d.Split(' ')[0], d => d[(d.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        Assert.Equal("'self'", directives["default-src"]);
        Assert.Equal("'self'", directives["script-src"]);
        Assert.Equal("'self'", directives["connect-src"]);
        Assert.Equal("'none'", directives["frame-ancestors"]);
        Assert.Equal("'self'", directives["form-action"]);
        Assert.Equal("'self'", directives["base-uri"]);
        Assert.Equal("'none'", directives["object-src"]);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", Single(response, "Referrer-Policy"));
        Assert.Contains("camera=()", Single(response, "Permissions-Policy"), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS over plain HTTP");
    }

    [Fact]
    public async Task OverPlainHttp_TheSessionCookieKeepsItsPlainName()
    {
        var response = await PortalFactory.SignInAsync(factory.Browser(), DemoOrganisation.Erin.Email, DemoOrganisation.Password);

        var session = Assert.Single(Cookies(response), c => c.Contains("PimPortal.Session=", StringComparison.Ordinal));
        Assert.StartsWith("PimPortal.Session=", session, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", session, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OverHttps_HstsIsSent_AndTheSessionCookieIsHostPrefixedAndSecure_AndWorks()
    {
        var browser = factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            BaseAddress = new Uri("https://pim.contoso.test"),
            AllowAutoRedirect = false,
            HandleCookies = true,
        });

        var form = await browser.GetAsync("/signin");
        var response = await PortalFactory.SignInAsync(browser, DemoOrganisation.Erin.Email, DemoOrganisation.Password, "/directory");

        Assert.Contains("max-age=", Single(form, "Strict-Transport-Security"), StringComparison.Ordinal);
        Assert.All(Cookies(form), c => Assert.Contains("; secure", c, StringComparison.OrdinalIgnoreCase));
        var session = Assert.Single(Cookies(response), c => c.Contains("PimPortal.Session=", StringComparison.Ordinal));
        Assert.StartsWith("__Host-PimPortal.Session=", session, StringComparison.Ordinal);
        Assert.Contains("; secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; path=/;", session + ";", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("erin@contoso.test", await browser.GetStringAsync("/directory"), StringComparison.Ordinal);
    }

    private static string Single(HttpResponseMessage response, string header) => Assert.Single(response.Headers.GetValues(header));

    private static IEnumerable<string> Cookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [];
}
