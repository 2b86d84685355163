using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Audit;

namespace PimPortal.Core.Jobs;

/// <summary>Seals new audit events every <c>Pim:Audit:SealInterval</c>, then prunes what the retention period lets go of.</summary>
public sealed class AuditSealWorker(AuditTrail trail, TimeProvider time, WorkerHeartbeats heartbeats, IOptions<PimOptions> options, ILogger<AuditSealWorker> logger)
    : IntervalWorker(time, heartbeats, logger)
{
    protected override TimeSpan Interval => options.Value.Audit.SealInterval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await trail.SealAsync(cancellationToken);
        await trail.PruneAsync(cancellationToken);
    }
}
