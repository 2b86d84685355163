using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PimPortal.Core;

/// <summary>
/// The portal's own traces and metrics (OpenTelemetry reads them by the name <see cref="Name"/>): one span per
/// command and per outbox or expiry pass, and the counters an operator pages on (the gauges read
/// from the database are the telemetry sampler's). Without a listener — telemetry
/// not configured — each costs a check of a flag.
/// </summary>
public static class PimTelemetry
{
    public const string Name = "PimPortal";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Activations granted and refused, by role id and outcome (<c>granted</c>, <c>refused</c>).</summary>
    public static readonly Counter<long> Activations = Meter.CreateCounter<long>("pim.activations", "{activation}", "Activations granted and refused, per role");

    /// <summary>Grants the directory never took (the activation marked Failed).</summary>
    public static readonly Counter<long> GrantsFailed = Meter.CreateCounter<long>("pim.grants.failed", "{grant}", "Grants given up after the directory refused them or the attempts ran out");

    /// <summary>Directory writes to be tried again, by kind and whether the directory throttled (429) or asked to wait.</summary>
    public static readonly Counter<long> DirectoryRetries = Meter.CreateCounter<long>("pim.directory.retries", "{write}", "Directory writes retried, by kind and reason");

    /// <summary>From a grant's end to its removal from the directory.</summary>
    public static readonly Histogram<double> ExpiryLag = Meter.CreateHistogram("pim.expiry.lag", "s", "From a grant's end to its removal from the directory",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300] });

    /// <summary>Blazor circuits open on this instance.</summary>
    public static readonly UpDownCounter<long> Circuits = Meter.CreateUpDownCounter<long>("pim.circuits.connected", "{circuit}", "Interactive sessions (Blazor circuits) open on this instance");
}

