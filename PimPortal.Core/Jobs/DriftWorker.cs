using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PimPortal.Core.Jobs;

/// <summary>Runs the drift scan every <see cref="JobOptions.DriftInterval"/>.</summary>
public sealed class DriftWorker(DriftScanner scanner, TimeProvider time, WorkerHeartbeats heartbeats, IOptions<PimOptions> options, ILogger<DriftWorker> logger) : IntervalWorker(time, heartbeats, logger)
{
    protected override TimeSpan Interval => options.Value.Jobs.DriftInterval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => scanner.ScanAsync(cancellationToken);
}
