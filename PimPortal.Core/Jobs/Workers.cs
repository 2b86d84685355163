using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PimPortal.Core.Jobs;

/// <summary>Runs the outbox: at once when a command signals new work, otherwise every poll interval.</summary>
public sealed partial class OutboxWorker(OutboxProcessor processor, JobSignals signals, TimeProvider time, IOptions<PimOptions> options, ILogger<OutboxWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await processor.ProcessBatchAsync(stoppingToken);
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
                    await signals.Outbox.WaitAsync(options.Value.Jobs.OutboxPollInterval, time, stoppingToken);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "An outbox pass failed; it will be tried again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}

/// <summary>
/// Ends activations at their end: on start everything overdue, then sleeping exactly until the next end (or until a
/// command signals a new or extended activation), so a grant does not outlive its end by more than a moment.
/// </summary>
public sealed partial class ExpiryWorker(ExpiryProcessor processor, JobSignals signals, TimeProvider time, IOptions<PimOptions> options, ILogger<ExpiryWorker> logger)
    : BackgroundService
{
    private static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(25);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.Jobs.ExpiryMaxIdle;
            try
            {
                await processor.ExpireDueAsync(stoppingToken);
                if (await processor.NextDueAsync(stoppingToken) is { } next)
                {
                    // Something already due after a pass (it became due meanwhile, or could not be ended) is looked at
                    // again after a moment, never in a tight loop.
                    var untilNext = next - time.GetUtcNow();
                    wait = untilNext < MinimumWait ? MinimumWait : untilNext < wait ? untilNext : wait;
                }
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
