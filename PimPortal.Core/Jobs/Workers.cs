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

/// <summary>
/// Ends activations at their end: on start everything overdue, then sleeping exactly until the next end (or until a
/// command signals a new or extended activation), so a grant does not outlive its end by more than a moment.
/// </summary>
public sealed partial class ExpiryWorker(ExpiryProcessor processor, JobSignals signals, TimeProvider time, IOptions<PimOptions> options, ILogger<ExpiryWorker> logger)
    : BackgroundService
{
    private int overdueStreak;

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
                    wait = Overdue.Wait(next - time.GetUtcNow(), wait, ref overdueStreak);
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

/// <summary>How long a worker waits for the next thing due.</summary>
internal static class Overdue
{
    /// <summary>The pause before looking again at something that stays overdue after a pass (held by another instance, or failing).</summary>
    public static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// Until the next thing is due, at most <paramref name="longest"/>. Something already due (it fell due during the
    /// pass) is looked at again at once — but only once in a row: if it is still due after that, it waits a moment, so a
    /// row that cannot be handled never makes a tight loop.
    /// </summary>
    public static TimeSpan Wait(TimeSpan untilNext, TimeSpan longest, ref int streak)
    {
        if (untilNext > TimeSpan.Zero)
        {
            streak = 0;
            return untilNext < longest ? untilNext : longest;
        }

        return streak++ == 0 ? TimeSpan.Zero : Pause;
    }
}

/// <summary>
/// A worker that runs one pass every interval (the drift scan, the directory sync): a failed pass is logged and the
/// next one comes at the next interval.
/// </summary>
public abstract partial class IntervalWorker(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>How long between passes (read before each wait, so a changed setting counts).</summary>
    protected abstract TimeSpan Interval { get; }

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    /// <summary>A signal that starts the next pass early (a command made work for it), or null.</summary>
    protected virtual WorkSignal? Wake => null;

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
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

/// <summary>Seals new audit events every <c>Pim:Audit:SealInterval</c>, then prunes what the retention period lets go of.</summary>
public sealed class AuditSealWorker(Features.Audit.AuditTrail trail, TimeProvider time, IOptions<PimOptions> options, ILogger<AuditSealWorker> logger)
    : IntervalWorker(time, logger)
{
    protected override TimeSpan Interval => options.Value.Audit.SealInterval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await trail.SealAsync(cancellationToken);
        await trail.PruneAsync(cancellationToken);
    }
}
