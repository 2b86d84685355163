using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Notifications;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>Runs the mail processor when SMTP is configured: at once when a command signals, else when the next mail is due.</summary>
public sealed partial class MailWorker(MailProcessor processor, JobSignals signals, WorkerHeartbeats heartbeats, TimeProvider time, IOptions<PimOptions> options, ILogger<MailWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Smtp.IsConfigured)
        {
            return;
        }

        heartbeats.Started(nameof(MailWorker), options.Value.Jobs.OutboxPollInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = options.Value.Jobs.OutboxPollInterval;
            try
            {
                var sent = await processor.SendDueAsync(stoppingToken);
                heartbeats.Passed(nameof(MailWorker), options.Value.Jobs.OutboxPollInterval);
                if (sent == MailProcessor.BatchSize)
                {
                    continue;
                }

                if (await processor.NextDueAsync(stoppingToken) is { } next)
                {
                    var untilNext = next - time.GetUtcNow();
                    wait = untilNext < wait ? (untilNext > TimeSpan.Zero ? untilNext : TimeSpan.Zero) : wait;
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
            }

            try
            {
                await signals.Mail.WaitAsync(wait, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A mail pass failed; it will be tried again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
