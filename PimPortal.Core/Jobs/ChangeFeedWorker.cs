using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PimPortal.Core.Jobs;

/// <summary>Runs the change feed every <see cref="JobOptions.ChangeFeedInterval"/> (several instances on one database).</summary>
public sealed partial class ChangeFeedWorker(ChangeFeedProcessor processor, WorkerHeartbeats heartbeats, TimeProvider time, IOptions<PimOptions> options, ILogger<ChangeFeedWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        processor.Start();
        heartbeats.Started(nameof(ChangeFeedWorker), options.Value.Jobs.ChangeFeedInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Value.Jobs.ChangeFeedInterval, time, stoppingToken);
                await processor.PollAsync(stoppingToken);
                heartbeats.Passed(nameof(ChangeFeedWorker), options.Value.Jobs.ChangeFeedInterval);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The feed must outlive a failed look (a database hiccup); it logs and goes on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPassFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A change-feed look failed; it will look again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
