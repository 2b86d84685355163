using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>Runs the outbox: at once when a command signals new work, otherwise every poll interval.</summary>
public sealed partial class OutboxWorker(OutboxProcessor processor, JobSignals signals, WorkerHeartbeats heartbeats, TimeProvider time, IOptions<PimOptions> options, ILogger<OutboxWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        heartbeats.Started(nameof(OutboxWorker), options.Value.Jobs.OutboxPollInterval);
        try
        {
            await processor.ReleaseAbandonedClaimsAsync(stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPassFailed(logger, ex);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await processor.ProcessBatchAsync(stoppingToken);
                heartbeats.Passed(nameof(OutboxWorker), options.Value.Jobs.OutboxPollInterval);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The worker must outlive a failed pass (a database hiccup); it logs and goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPassFailed(logger, ex);
            }

            try
            {
                if (claimed == 0)
                {
                    // Sleep until a retry falls due (a backoff, Graph's Retry-After) or the poll interval, whichever
                    // is first; a command's signal wakes it at once.
                    var wait = options.Value.Jobs.OutboxPollInterval;
                    if (await NextRetryAsync(stoppingToken) is { } next)
                    {
                        wait = Overdue.Wait(next - time.GetUtcNow(), wait, ref overdueStreak);
                    }

                    await signals.Outbox.WaitAsync(wait, time, stoppingToken);
                }
                else if (claimed < OutboxProcessor.BatchSize && options.Value.Jobs.OutboxCoalesce > TimeSpan.Zero)
                {
                    await Task.Delay(options.Value.Jobs.OutboxCoalesce, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private int overdueStreak;

    private async Task<DateTimeOffset?> NextRetryAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await processor.NextDueAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPassFailed(logger, ex);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "An outbox pass failed; it will be tried again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
