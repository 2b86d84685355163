namespace PimPortal.Core;

/// <summary>Section <c>Pim:Telemetry</c>: OpenTelemetry traces and metrics. Nothing is collected unless an exporter is configured.</summary>
public sealed class TelemetryOptions
{
    /// <summary>
    /// The OpenTelemetry collector to send traces, metrics and logs to (OTLP), e.g. <c>http://otel-collector:4317</c>.
    /// The standard <c>OTEL_EXPORTER_OTLP_*</c> environment variables are honoured as well.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary><c>Grpc</c> (port 4317) or <c>HttpProtobuf</c> (port 4318).</summary>
    public string OtlpProtocol { get; set; } = "Grpc";

    public PrometheusOptions Prometheus { get; set; } = new();

    /// <summary>Whether telemetry goes to a collector: this setting, or the standard environment variable.</summary>
    public bool ExportsOtlp => OtlpEndpoint is not null || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    /// <summary>Whether anything is collected at all.</summary>
    public bool Enabled => ExportsOtlp || Prometheus.Enabled;
}

/// <summary>Section <c>Pim:Telemetry:Prometheus</c>: the scrape endpoint <c>/metrics</c>.</summary>
public sealed class PrometheusOptions
{
    /// <summary>Serve <c>/metrics</c> (off by default).</summary>
    public bool Enabled { get; set; }

    /// <summary>The bearer token a scraper must send (<c>Authorization: Bearer …</c>); required unless <see cref="AllowAnonymous"/>.</summary>
    public string? Token { get; set; }

    /// <summary>Serve <c>/metrics</c> to anyone who reaches it (a network that only the scraper reaches).</summary>
    public bool AllowAnonymous { get; set; }
}
