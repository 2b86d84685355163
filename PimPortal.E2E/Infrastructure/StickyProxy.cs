using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace PimPortal.E2E.Infrastructure;

/// <summary>
/// A load balancer in front of several portal instances, as a deployment has one: YARP, round robin, with
/// cookie-based session affinity (sticky sessions) so a browser stays on the instance that holds its Blazor circuit.
/// Each answer names the instance that gave it (<c>X-Pim-Instance</c>), for the tests to see where they landed.
/// </summary>
public sealed class StickyProxy : IAsyncDisposable
{
    public const string InstanceHeader = "X-Pim-Instance";
    public const string AffinityCookie = "PimPortal.Affinity";

    private readonly WebApplication app;

    private StickyProxy(WebApplication app, string baseUrl)
    {
        this.app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static async Task<StickyProxy> StartAsync(IReadOnlyList<PortalProcess> instances)
    {
        var port = PortalProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var cluster = new ClusterConfig
        {
            ClusterId = "portal",
            LoadBalancingPolicy = "RoundRobin",
            SessionAffinity = new SessionAffinityConfig { Enabled = true, Policy = "Cookie", AffinityKeyName = AffinityCookie },
            Destinations = instances.Select((instance, i) => (Name: ((char)('a' + i)).ToString(), instance.BaseUrl))
                .ToDictionary(d => d.Name, d => new DestinationConfig { Address = d.BaseUrl }),
        };
        var route = new RouteConfig { RouteId = "all", ClusterId = "portal", Match = new RouteMatch { Path = "{**path}" } };
        builder.Services.AddReverseProxy().LoadFromMemory([route], [cluster]).AddTransforms(context => context.AddResponseTransform(transform =>
        {
            if (transform.HttpContext.Features.Get<IReverseProxyFeature>()?.ProxiedDestination is { } destination)
            {
                transform.HttpContext.Response.Headers[InstanceHeader] = destination.DestinationId;
            }

            return ValueTask.CompletedTask;
        }));
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync();
        return new StickyProxy(app, $"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
