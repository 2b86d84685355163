using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using PimPortal.Tests.Infrastructure;
using PimPortal.Tests.Web;

namespace PimPortal.Tests.Telemetry;

/// <summary>With <c>Pim:Telemetry:OtlpEndpoint</c> set, the portal sends its traces and logs to the collector there (OTLP over HTTP, a real local receiver).</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task TracesAndLogs_ReachTheCollector_ByTheirOwnPaths()
    {
        var received = new ConcurrentQueue<(string Path, string Body)>();
        var port = SmtpTestServer.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            // Protobuf carries its strings as UTF-8: enough to see whose spans these are.
            received.Enqueue((context.Request.Path, Encoding.UTF8.GetString(body.ToArray())));
            return Results.Ok();
        });
        await collector.StartAsync();

        await using var portal = PortalFactory.On(PortalFactory.NewFile(),
            ("Pim:Telemetry:OtlpEndpoint", $"http://127.0.0.1:{port}"), ("Pim:Telemetry:OtlpProtocol", "HttpProtobuf"), ("Logging:LogLevel:Default", "Information"));
        var browser = portal.Browser();
        await browser.GetAsync("/signin");
        await PortalFactory.SignInAsync(browser, Core.Seed.DemoOrganisation.Alice.Email, "not-the-password");

        // The batch exporters send every few seconds.
        await Eventually.HoldsAsync(() => Task.FromResult(received.Any(r => r.Path == "/v1/traces" && r.Body.Contains("/signin", StringComparison.Ordinal))
            && received.Any(r => r.Path == "/v1/logs")), "traces and logs at the collector", TimeSpan.FromSeconds(30));

        var traces = received.First(r => r.Path == "/v1/traces" && r.Body.Contains("/signin", StringComparison.Ordinal));
        Assert.Contains(Core.PimTelemetry.Name, traces.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(received, r => r.Path is not ("/v1/traces" or "/v1/logs" or "/v1/metrics"));
    }
}
