using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PimPortal.Core.Jobs;

/// <summary>Runs the directory sync every <see cref="JobOptions.DirectorySyncInterval"/> (Entra mode).</summary>
public sealed class DirectorySyncWorker(DirectorySyncer syncer, TimeProvider time, WorkerHeartbeats heartbeats, IOptions<PimOptions> options, ILogger<DirectorySyncWorker> logger) : IntervalWorker(time, heartbeats, logger)
{
    protected override TimeSpan Interval => options.Value.Jobs.DirectorySyncInterval;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => syncer.SyncAsync(cancellationToken);
}
