using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Lifecycle.Alerts;

namespace PimPortal.Core.Jobs;

/// <summary>Every <see cref="AlertOptions.Interval"/>: break-glass sign-ins in the directory, eligibility end notices, then the alerts.</summary>
public sealed class GovernanceWorker(
    EligibilityNotices notices, AlertEvaluator alerts, BreakGlassSignInWatcher signIns, TimeProvider time, WorkerHeartbeats heartbeats, IOptions<PimOptions> options, ILogger<GovernanceWorker> logger)
    : IntervalWorker(time, heartbeats, logger)
{
    protected override TimeSpan Interval => options.Value.Alerts.Interval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await signIns.WatchAsync(cancellationToken);
        await notices.RunAsync(cancellationToken);
        await alerts.EvaluateAsync(cancellationToken);
    }
}
