using Microsoft.Extensions.Logging;
using PimPortal.Core.Lifecycle.Reviews;

namespace PimPortal.Core.Jobs;

/// <summary>
/// One pass of the access review worker: open what is due, remind halfway, close what has ended, apply what was asked
/// for (or applies itself) — each step on its own, so one that fails does not hold up the others. Every pass looks at
/// the database afresh, so a restart picks up whatever fell due meanwhile; the steps themselves are the lifecycle's.
/// </summary>
public sealed partial class AccessReviewProcessor(
    ReviewOpening opening, ReviewReminders reminders, ReviewCompletion completion, ReviewResults results, ILogger<AccessReviewProcessor> logger)
{
    /// <summary>Denied lines applied per transaction.</summary>
    internal const int ApplyBatch = ReviewResults.BatchSize;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        await StepAsync(nameof(OpenDueAsync), OpenDueAsync, cancellationToken);
        await StepAsync(nameof(RemindAsync), RemindAsync, cancellationToken);
        await StepAsync(nameof(CompleteEndedAsync), CompleteEndedAsync, cancellationToken);
        await StepAsync(nameof(ApplyPendingAsync), ApplyPendingAsync, cancellationToken);
    }

    public Task<int> OpenDueAsync(CancellationToken cancellationToken) => opening.OpenDueAsync(cancellationToken);

    public Task<int> RemindAsync(CancellationToken cancellationToken) => reminders.RemindAsync(cancellationToken);

    public Task<int> CompleteEndedAsync(CancellationToken cancellationToken) => completion.CompleteEndedAsync(cancellationToken);

    public Task<int> ApplyPendingAsync(CancellationToken cancellationToken) => results.ApplyPendingAsync(cancellationToken);

    private async Task StepAsync(string step, Func<CancellationToken, Task<int>> run, CancellationToken cancellationToken)
    {
        try
        {
            await run(cancellationToken);
        }
#pragma warning disable CA1031 // A failed step is logged and tried again at the next pass; the other steps still run.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            LogStepFailed(logger, ex, step);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Access reviews: {Step} failed; it runs again at the next pass")]
    private static partial void LogStepFailed(ILogger logger, Exception exception, string step);
}
