using System.Diagnostics;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Audit;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// The audit export at <c>rows</c> audit events on SQLite (generated: activations' events of 1,000 users over six
/// roles, details like the real ones): the whole trail exported as CSV and as JSON lines through <c>ExportAudit</c>
/// (the command, with its pipeline) into a stream that discards what it is given, and a filtered search page.
/// </summary>
internal static class AuditExportBenchmark
{
    public static async Task RunAsync(int rows)
    {
        await using var host = await BenchHost.StartAsync();
        var seed = Stopwatch.StartNew();
        await GenerateAsync(host, rows);
        seed.Stop();

        var csv = await ExportAsync(host, AuditExportFormat.Csv);
        var jsonl = await ExportAsync(host, AuditExportFormat.JsonLines);

        var pages = new List<double>();
        for (var i = 0; i < 60; i++)
        {
            var watch = Stopwatch.StartNew();
            await using var scope = host.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(DemoOrganisation.Dave.Id);
            var page = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new SearchAudit(new AuditFilter(Action: AuditActions.ActivationGranted)));
            watch.Stop();
            if (page.Rows.Count == 0)
            {
                throw new InvalidOperationException("Nothing found.");
            }

            if (i >= 10)
            {
                pages.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"## Audit export with {rows:N0} events (SQLite; generated in {seed.Elapsed.TotalSeconds:0.0} s)");
        Console.WriteLine($"- CSV: {csv.Rows:N0} rows in {csv.Seconds:0.00} s = {csv.Rows / csv.Seconds:N0} rows/s ({csv.Bytes / 1_048_576.0:0} MB)");
        Console.WriteLine($"- JSON lines: {jsonl.Rows:N0} rows in {jsonl.Seconds:0.00} s = {jsonl.Rows / jsonl.Seconds:N0} rows/s ({jsonl.Bytes / 1_048_576.0:0} MB)");
        Console.WriteLine($"- search, first page filtered by event (SearchAudit): {Stats.Summary(pages)}");
    }

    private static async Task<(long Rows, double Seconds, long Bytes)> ExportAsync(BenchHost host, AuditExportFormat format)
    {
        await using var scope = host.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(DemoOrganisation.Dave.Id);
        var sink = new CountingStream();
        var watch = Stopwatch.StartNew();
        var written = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ExportAudit(new AuditFilter(), format, sink));
        watch.Stop();
        return (written, watch.Elapsed.TotalSeconds, sink.Length);
    }

    private static async Task GenerateAsync(BenchHost host, int rows)
    {
        var start = DateTimeOffset.UtcNow.AddDays(-365);
        var users = Enumerable.Range(0, 1000).Select(i => (Id: Guid.NewGuid(), Name: $"Bench user {i}")).ToList();
        var roles = DemoOrganisation.Roles;
        string[] actions = [AuditActions.ActivationRequested, AuditActions.ActivationGranted, AuditActions.ActivationProvisioned, AuditActions.ActivationExpired];
        const int batch = 20_000;
        for (var done = 0; done < rows; done += batch)
        {
            await using var db = await host.DbAsync();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = done; i < Math.Min(rows, done + batch); i++)
            {
                var user = users[i % users.Count];
                var role = roles[(i / 4) % roles.Count];
                var action = actions[i % actions.Length];
                var details = $$"""{"role":"{{role.DisplayName}}","scope":"{{role.Scope}}","justification":"Change CHG{{i / 4}}, \"window\" {{i % 97}}","ticketNumber":"CHG{{i / 4}}"}""";
                db.AuditEvents.Add(new AuditEvent(start.AddSeconds(i * 3), i % 4 == 0 ? user.Id : null, i % 4 == 0 ? user.Name : "PimPortal", action, "activation",
                    Guid.NewGuid().ToString(), AuditOutcome.Success, details, user.Id, role.Id).From("10.0.0.1", "Bench/1.0", Guid.NewGuid().ToString("N")));
            }

            await db.SaveChangesAsync();
        }
    }

    /// <summary>Counts what is written and keeps nothing (the export's cost without a disk's).</summary>
    private sealed class CountingStream : Stream
    {
        private long length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => length;

        public override long Position { get => length; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => length += count;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            length += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
