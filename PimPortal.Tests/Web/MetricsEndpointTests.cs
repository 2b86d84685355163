using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Jobs;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Web;

/// <summary><c>/metrics</c>: off unless configured, and then only for a scraper that sends the configured bearer token.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task WithoutConfiguration_ThereIsNoScrapeEndpoint()
    {
        await using var portal = new PortalFactory();

        var response = await portal.Browser().GetAsync("/metrics");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("pim_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheScrapeEndpoint_WantsTheToken_AndShowsThePortalsGauges()
    {
        await using var portal = PortalFactory.On(PortalFactory.NewFile(), ("Pim:Telemetry:Prometheus:Enabled", "true"), ("Pim:Telemetry:Prometheus:Token", "scrape-secret-42"));
        var browser = portal.Browser();
        await portal.Services.GetRequiredService<TelemetrySampler>().SampleAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/metrics")).StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "scrape-secret-41") } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.SendAsync(wrong)).StatusCode);

        string? body = null;
        await Eventually.HoldsAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "scrape-secret-42") } };
            var response = await browser.SendAsync(request);
            body = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.OK && body.Contains("pim_approvals_pending", StringComparison.Ordinal);
        }, "the gauges to be scraped");

        Assert.Contains("pim_outbox_backlog", body, StringComparison.Ordinal);
        Assert.Contains("pim_audit_unsealed", body, StringComparison.Ordinal);
        Assert.Contains("pim_audit_seal_lag_seconds", body, StringComparison.Ordinal);
    }
}
