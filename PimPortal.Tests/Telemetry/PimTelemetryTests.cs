using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using PimPortal.Core;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Telemetry;

/// <summary>
/// The portal's own spans and instruments, read as OpenTelemetry reads them (an ActivityListener and a MeterListener on
/// <see cref="PimTelemetry.Name"/>), kept to this test's trace so the suite's other tests do not count.
/// </summary>
public sealed class PimTelemetryTests : HandlerTests, IDisposable
{
    private static readonly ActivitySource TestSource = new("PimPortal.Tests.Telemetry");
    private readonly ConcurrentBag<Activity> spans = [];
    private readonly ConcurrentBag<(string Instrument, long Value, Dictionary<string, object?> Tags)> measurements = [];
    private readonly ActivityListener spanListener;
    private readonly MeterListener meterListener = new();
    private Activity root = null!;

    public PimTelemetryTests()
        : base(DatabaseKind.Sqlite)
    {
        spanListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is PimTelemetry.Name or "PimPortal.Tests.Telemetry",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(spanListener);
        meterListener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PimTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // Only what was recorded inside this test's trace.
            if (root is not null && Activity.Current?.TraceId == root.TraceId)
            {
                measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        });
        meterListener.Start();
    }

    [Fact]
    public async Task ACommand_IsOneSpan_WithItsNameAndOutcome_AndActivationsAreCountedPerRole()
    {
        using var trace = root = TestSource.StartActivity("test")!;
        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator);
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, DemoOrganisation.UserAdministrator);
        await Assert.ThrowsAnyAsync<PimException>(() => App.SendAs(DemoOrganisation.Alice, new ActivateRoles(
            [new ActivationItem(eligibility, TimeSpan.FromHours(23))], "Longer than the role allows", null, null, DemoOrganisation.UserAdministrator.Mfa ? App.CodeFor(DemoOrganisation.Alice) : null)));

        var commands = spans.Where(s => s.TraceId == root.TraceId && s.Source.Name == PimTelemetry.Name && s.OperationName == nameof(ActivateRoles)).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(["ok", "refused"], commands.Select(s => (string?)s.GetTagItem("pim.outcome")));
        Assert.All(commands, s => Assert.Equal(nameof(ActivateRoles), s.GetTagItem("pim.command")));
        var activations = measurements.Where(m => m.Instrument == "pim.activations").Select(m => (m.Value, Role: m.Tags["pim.role_id"]?.ToString(), Outcome: (string?)m.Tags["pim.outcome"])).ToList();
        Assert.Contains((1L, DemoOrganisation.ExchangeAdministrator.Id.ToString(), "granted"), activations);
        Assert.Contains((1L, DemoOrganisation.UserAdministrator.Id.ToString(), "refused"), activations);
    }

    [Fact]
    public async Task TheOutboxPass_IsASpan_AndTheEndToRemovalLag_IsMeasured()
    {
        using var trace = root = TestSource.StartActivity("test")!;
        var lags = new ConcurrentBag<double>();
        meterListener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "pim.expiry.lag" && Activity.Current?.TraceId == trace.TraceId)
            {
                lags.Add(value);
            }
        });
        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        await App.SendAs(DemoOrganisation.Alice, new DeactivateRoles([outcome.ActivationId!.Value]));
        App.Time.Advance(TimeSpan.FromSeconds(3));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Contains(spans, s => s.TraceId == root.TraceId && s.OperationName == "outbox.deliver" && (int?)s.GetTagItem("pim.outbox.messages") >= 1);
        Assert.Equal(3, Assert.Single(lags), 0.001);
    }

    public void Dispose()
    {
        spanListener.Dispose();
        meterListener.Dispose();
    }
}
