namespace PimPortal.Benchmarks;

/// <summary>
/// Scenario benchmarks for docs/performance.md. From the repository root:
/// <c>dotnet run -c Release --project benchmarks/PimPortal.Benchmarks -- all</c>, or one of
/// <c>activation [count]</c>, <c>expiry [count]</c>, <c>myroles [roles]</c>, <c>coldstart [runs]</c>, <c>approvals [pending]</c>, <c>graph [grants]</c>, <c>administration [eligibilities]</c>, <c>reviews [eligibilities]</c>, <c>audit [events]</c> (not in <c>all</c>: it generates ten million events).
/// </summary>
internal static class BenchmarkMain
{
    public static async Task<int> Main(string[] args)
    {
        var scenario = args.FirstOrDefault() ?? "all";
        int Arg(int fallback) => args.Length > 1 && int.TryParse(args[1], out var value) ? value : fallback;

        Console.WriteLine($"# PimPortal benchmarks — {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        switch (scenario)
        {
            case "activation":
                await ActivationBenchmark.RunAsync(Arg(2000));
                break;
            case "expiry":
                await ExpiryBenchmark.RunAsync(Arg(1000));
                break;
            case "myroles":
                await MyRolesBenchmark.RunAsync(Arg(200));
                break;
            case "coldstart":
                await ColdStartBenchmark.RunAsync(Arg(3));
                break;
            case "approvals":
                await ApprovalBenchmark.RunAsync(Arg(5000));
                break;
            case "graph":
                await GraphLoadBenchmark.RunAsync(Arg(1000));
                break;
            case "audit":
                await AuditExportBenchmark.RunAsync(Arg(10_000_000), Environment.GetEnvironmentVariable("BENCH_AUDIT_DB"));
                break;
            case "administration":
                await AdministrationBenchmark.RunAsync(Arg(100_000));
                break;
            case "reviews":
                await AccessReviewBenchmark.RunAsync(Arg(100_000));
                break;
            case "instances":
                await InstancesBenchmark.RunAsync(Arg(1000));
                break;
            case "telemetry":
                await TelemetryBenchmark.RunAsync(Arg(4000));
                break;
            case "all":
                await ActivationBenchmark.RunAsync(2000);
                await ExpiryBenchmark.RunAsync(1000);
                await MyRolesBenchmark.RunAsync(200);
                await ColdStartBenchmark.RunAsync(3);
                await ApprovalBenchmark.RunAsync(5000);
                await GraphLoadBenchmark.RunAsync(1000);
                await AdministrationBenchmark.RunAsync(100_000);
                await AccessReviewBenchmark.RunAsync(100_000);
                await TelemetryBenchmark.RunAsync(4000);
                break;
            default:
                Console.Error.WriteLine("usage: activation [count] | expiry [count] | myroles [roles] | coldstart [runs] | approvals [pending] | graph [grants] | administration [eligibilities] | reviews [eligibilities] | audit [events] | telemetry [activations] | instances [grants] (PostgreSQL: ./build.sh bench instances) | all");
                return 2;
        }

        return 0;
    }
}
