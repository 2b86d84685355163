using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Components.Server.Circuits;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PimPortal.Core;
using PimPortal.Core.Jobs;

namespace PimPortal.Telemetry;

/// <summary>
/// OpenTelemetry, when <c>Pim:Telemetry</c> names an exporter: traces of HTTP requests, commands, EF Core's database
/// calls, Graph's HTTP calls and the outbox and expiry passes; the portal's metrics (<see cref="PimTelemetry"/>) with
/// ASP.NET Core's and the runtime's; OTLP to a collector and/or a Prometheus scrape endpoint at <c>/metrics</c> that
/// wants a bearer token. Logs carry the trace and span ids either way.
/// </summary>
internal static class TelemetrySetup
{
    public const string MetricsPath = "/metrics";

    public static void AddPortalTelemetry(this WebApplicationBuilder builder, TelemetryOptions options)
    {
        // Every log line written inside a request or a command carries its trace id, with or without an exporter.
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (!options.Enabled)
        {
            return;
        }

        builder.Services.AddSingleton<TelemetrySampler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TelemetrySampler>());
        builder.Services.AddSingleton<CircuitHandler, CircuitCounter>();
        var otlp = options.ExportsOtlp;
        // Over HTTP each signal has its own path below the collector's address (as OTEL_EXPORTER_OTLP_ENDPOINT adds them);
        // over gRPC the address alone.
        Action<OtlpExporterOptions> Otlp(string signal) => o =>
        {
            if (options.OtlpEndpoint is { } endpoint)
            {
                var http = options.OtlpProtocol == "HttpProtobuf";
                o.Protocol = http ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                o.Endpoint = http ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/v1/" + signal) : endpoint;
            }
        };

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(PimTelemetry.Name, serviceVersion: typeof(TelemetrySetup).Assembly.GetName().Version?.ToString(), serviceInstanceId: Environment.MachineName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(PimTelemetry.Name)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments(MetricsPath))
                    .AddHttpClientInstrumentation()
                    .AddEntityFrameworkCoreInstrumentation();
                if (otlp)
                {
                    tracing.AddOtlpExporter(Otlp("traces"));
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(PimTelemetry.Name)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation();
                if (otlp)
                {
                    metrics.AddOtlpExporter(Otlp("metrics"));
                }

                if (options.Prometheus.Enabled)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithLogging(logging => logging.AddOtlpExporter(Otlp("logs")));
        }
    }

    public static void UsePortalTelemetry(this WebApplication app, TelemetryOptions options)
    {
        if (!options.Enabled)
        {
            return;
        }

        if (!options.Prometheus.Enabled)
        {
            return;
        }

        // The scrape endpoint is not for everybody: a bearer token (compared in constant time), unless the operator
        // said only the scraper can reach it.
        var token = options.Prometheus.AllowAnonymous ? null : Encoding.UTF8.GetBytes("Bearer " + options.Prometheus.Token);
        app.UseWhen(c => c.Request.Path.StartsWithSegments(MetricsPath), branch => branch.Use(async (context, next) =>
        {
            if (token is not null && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString()), token))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"metrics\"";
                return;
            }

            await next(context);
        }));
        app.MapPrometheusScrapingEndpoint(MetricsPath).AllowAnonymous();
    }
}

/// <summary>Counts the Blazor circuits open on this instance (<c>pim.circuits.connected</c>).</summary>
internal sealed class CircuitCounter : CircuitHandler
{
    public override Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        PimTelemetry.Circuits.Add(1);
        return Task.CompletedTask;
    }

    public override Task OnCircuitClosedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        PimTelemetry.Circuits.Add(-1);
        return Task.CompletedTask;
    }
}
