using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Ends activations at their end: on start everything overdue, then sleeping exactly until the next end (or until a
/// command signals a new or extended activation), so a grant does not outlive its end by more than a moment.
/// </summary>
public sealed partial class ExpiryWorker(ExpiryProcessor processor, JobSignals signals, WorkerHeartbeats heartbeats, TimeProvider time, IOptions<PimOptions> options, ILogger<ExpiryWorker> logger)
    : BackgroundService
{
    private int overdueStreak;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        heartbeats.Started(nameof(ExpiryWorker), options.Value.Jobs.ExpiryMaxIdle);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.Jobs.ExpiryMaxIdle;
            try
            {
                await processor.ExpireDueAsync(stoppingToken);
                if (await processor.NextDueAsync(stoppingToken) is { } next)
                {
                    wait = Overdue.Wait(next - time.GetUtcNow(), wait, ref overdueStreak);
                }

                heartbeats.Passed(nameof(ExpiryWorker), options.Value.Jobs.ExpiryMaxIdle);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The worker must outlive a failed pass; it logs and goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPassFailed(logger, ex);
                wait = TimeSpan.FromSeconds(1);
            }

            try
            {
                await signals.Expiry.WaitAsync(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An expiry pass failed; it will be tried again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
