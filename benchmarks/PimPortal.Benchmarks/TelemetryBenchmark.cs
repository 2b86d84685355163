using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PimPortal.Core;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// The cost of telemetry (issue 15): activations through the real handler with OpenTelemetry off, and on — the
/// portal's spans and metrics plus EF Core's spans, batched to an exporter as in production — in alternating rounds
/// on one host and one file, so both sides see the same disk. The figure is the median of the rounds' ratios.
/// </summary>
internal static class TelemetryBenchmark
{
    public static async Task RunAsync(int count)
    {
        const int rounds = 10;
        const int warmup = 500;
        var perRound = Math.Max(1, count / rounds);
        await using var host = await BenchHost.StartAsync();
        var users = new Queue<(Guid User, Guid Eligibility)>(await host.AddEligibleUsersAsync(2 * perRound * rounds + 2 * warmup, DemoOrganisation.ExchangeAdministrator));

        Task ActivateAsync() => host.ActivateAsync(users.Dequeue());

        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        (TracerProvider, MeterProvider) TurnOn() => (
            Sdk.CreateTracerProviderBuilder().AddSource(PimTelemetry.Name).AddEntityFrameworkCoreInstrumentation()
                .AddProcessor(new BatchActivityExportProcessor(new OpenTelemetry.Exporter.InMemoryExporter<Activity>(spans))).Build(),
            Sdk.CreateMeterProviderBuilder().AddMeter(PimTelemetry.Name).AddInMemoryExporter(metrics).Build());

        async Task<double> RoundAsync(bool on)
        {
            var providers = on ? TurnOn() : default;
            try
            {
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < perRound; i++)
                {
                    await ActivateAsync();
                }

                return perRound / watch.Elapsed.TotalSeconds;
            }
            finally
            {
                providers.Item1?.Dispose();
                providers.Item2?.Dispose();
            }
        }

        for (var i = 0; i < warmup; i++)
        {
            await ActivateAsync();
        }

        await RoundAsync(on: true);
        spans.Clear();
        var off = new List<double>();
        var on = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            // Alternate which side goes first, so neither always follows the other's checkpoint of the WAL.
            if (round % 2 == 0)
            {
                off.Add(await RoundAsync(false));
                on.Add(await RoundAsync(true));
            }
            else
            {
                on.Add(await RoundAsync(true));
                off.Add(await RoundAsync(false));
            }
        }

        var ratios = off.Zip(on, (o, t) => t / o).Order().ToList();
        Console.WriteLine($"## Telemetry cost (issue 15): {perRound:N0} activations a round, {rounds} rounds, off and on alternating");
        static string Rates(List<double> values) => $"median {Stats.Percentile([.. values.Order()], 50):N0}/s (rounds {values.Min():N0}–{values.Max():N0}/s)";
        Console.WriteLine($"- off: {Rates(off)}");
        Console.WriteLine($"- on (portal spans and metrics, EF Core spans, batch export): {Rates(on)}");
        Console.WriteLine($"- on / off: median {Stats.Percentile(ratios, 50):0.000} (rounds {ratios[0]:0.000}–{ratios[^1]:0.000}); spans exported: {spans.Count:N0}");
    }
}
