using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>Every <c>Pim:Reviews:Interval</c>, or at once when a review is created, ended or asked to apply: one pass of the access reviews.</summary>
public sealed class AccessReviewWorker(AccessReviewProcessor processor, JobSignals signals, TimeProvider time, WorkerHeartbeats heartbeats, IOptions<PimOptions> options, ILogger<AccessReviewWorker> logger)
    : IntervalWorker(time, heartbeats, logger)
{
    protected override TimeSpan Interval => options.Value.Reviews.Interval;

    protected override WorkSignal Wake => signals.Reviews;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => processor.RunAsync(cancellationToken);
}
