using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Reads what the gauges show (the outbox's backlog and oldest due write, the approvers' queue, the unsealed audit
/// events) every <see cref="Interval"/>, with four small indexed queries, so a scrape never waits on the database.
/// Runs only where metrics are exported; its gauges are on a meter of this host's (named <see cref="PimTelemetry.Name"/>),
/// so they go with the host.
/// </summary>
public sealed partial class TelemetrySampler : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly IDbContextFactory<PimDbContext> dbFactory;
    private readonly TimeProvider time;
    private readonly ILogger<TelemetrySampler> logger;

    public TelemetrySampler(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, IMeterFactory meters, ILogger<TelemetrySampler> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        (this.dbFactory, this.time, this.logger) = (dbFactory, time, logger);
        var meter = meters.Create(PimTelemetry.Name);
        meter.CreateObservableGauge("pim.outbox.backlog", () => Last?.OutboxBacklog ?? 0, "{message}", "Directory writes not done yet");
        meter.CreateObservableGauge("pim.outbox.oldest_due_age", () => Last?.OutboxOldestDueAge.TotalSeconds ?? 0, "s", "How long the oldest due directory write has waited");
        meter.CreateObservableGauge("pim.approvals.pending", () => Last?.PendingApprovals ?? 0, "{request}", "Requests waiting for an approver");
        meter.CreateObservableGauge("pim.audit.unsealed", () => Last?.UnsealedEvents ?? 0, "{event}", "Audit events not sealed into the chain yet");
        meter.CreateObservableGauge("pim.audit.seal_lag", () => Last?.SealLag.TotalSeconds ?? 0, "s", "Age of the oldest unsealed audit event");
    }

    /// <summary>The last sample, null before the first.</summary>
    public PimStateSample? Last { get; private set; }

    public async Task<PimStateSample> SampleAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var open = db.Outbox.AsNoTracking().Where(m => m.ProcessedAt == null);
        var backlog = await open.LongCountAsync(cancellationToken);
        var oldestDue = await open.Where(m => m.DueAt <= now).OrderBy(m => m.DueAt).Select(m => (DateTimeOffset?)m.DueAt).FirstOrDefaultAsync(cancellationToken);
        var pending = await db.ActivationRequests.AsNoTracking().LongCountAsync(r => r.Status == ActivationRequestStatus.Pending, cancellationToken);
        var unsealed = db.AuditEvents.AsNoTracking().Where(e => e.ChainHash == null);
        var unsealedCount = await unsealed.LongCountAsync(cancellationToken);
        var oldestUnsealed = await unsealed.OrderBy(e => e.Id).Select(e => (DateTimeOffset?)e.OccurredAt).FirstOrDefaultAsync(cancellationToken);
        Last = new PimStateSample(backlog, oldestDue is { } due ? now - due : TimeSpan.Zero, pending, unsealedCount, oldestUnsealed is { } at ? now - at : TimeSpan.Zero);
        return Last;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SampleAsync(stoppingToken);
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed sample (a database hiccup) leaves the last one standing; the next comes at the interval.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSampleFailed(logger, ex);
                await Task.Delay(Interval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sampling the portal's state for the metrics failed; the last sample stands")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}

/// <summary>What the database says, sampled every few seconds for the gauges.</summary>
public sealed record PimStateSample(long OutboxBacklog, TimeSpan OutboxOldestDueAge, long PendingApprovals, long UnsealedEvents, TimeSpan SealLag);
