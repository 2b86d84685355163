using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// A worker that runs one pass every interval (the drift scan, the directory sync): a failed pass is logged and the
/// next one comes at the next interval.
/// </summary>
public abstract partial class IntervalWorker(TimeProvider time, WorkerHeartbeats heartbeats, ILogger logger) : BackgroundService
{
    /// <summary>How long between passes (read before each wait, so a changed setting counts).</summary>
    protected abstract TimeSpan Interval { get; }

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>A signal that starts the next pass early (a command made work for it), or null.</summary>
    protected virtual WorkSignal? Wake => null;

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var name = GetType().Name;
        heartbeats.Started(name, Interval);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                heartbeats.Passed(name, Interval);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed pass (the directory unreachable) must not stop the worker; it logs and tries again later.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPassFailed(logger, ex, GetType().Name);
            }

            try
            {
                if (Wake is { } wake)
                {
                    await wake.WaitAsync(Interval, time, stoppingToken);
                }
                else
                {
                    await Task.Delay(Interval, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A pass of {Worker} failed; it will run again at the next interval")]
    private static partial void LogPassFailed(ILogger logger, Exception exception, string worker);
}
