using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace PimPortal.Tests.Web;

/// <summary>
/// X-Forwarded-For/-Proto are believed only from the proxies configured (<c>ForwardedHeaders:KnownProxies</c>,
/// <c>…:KnownNetworks</c>; loopback always): from anyone else they are ignored, so nobody can forge the client address
/// the audit trail records or the scheme the redirects use.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData(null, "http://localhost/signin")]
    [InlineData("203.0.113.0/24", "https://localhost/signin")]
    public async Task ForwardedHeaders_AreBelievedOnlyFromAKnownProxy(string? knownNetwork, string expectedRedirect)
    {
        var settings = knownNetwork is null ? [] : new[] { ("ForwardedHeaders:KnownNetworks:0", knownNetwork) };
        await using var portal = PortalFactory.On(PortalFactory.NewFile(), settings);
        using var browser = portal.WithWebHostBuilder(b => b.ConfigureTestServices(services =>
            services.AddSingleton<IStartupFilter>(new FromAddress(IPAddress.Parse("203.0.113.9"))))).CreateClient(new() { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Add("X-Forwarded-For", "198.51.100.1");
        request.Headers.Add("X-Forwarded-Proto", "https");

        var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith(expectedRedirect, response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    /// <summary>Every request arrives from <paramref name="address"/>, as from a machine on the network.</summary>
    private sealed class FromAddress(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate following) =>
            {
                context.Connection.RemoteIpAddress = address;
                return following(context);
            });
            next(app);
        };
    }
}
