using System.Diagnostics;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Audit;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Audit;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// The audit trail at <c>events</c> events on SQLite (default ten million), made by <see cref="AuditVolumeGenerator"/>:
/// sealing the newest 100,000 (the sealer), verifying the whole chain, exporting it all as CSV and as JSON lines through
/// <c>ExportAudit</c> (the command, with its pipeline) into a stream that discards what it is given, and the search's
/// first page under each filter an auditor uses.
/// </summary>
internal static class AuditExportBenchmark
{
    /// <param name="keepFile">
    /// <c>BENCH_AUDIT_DB</c>: a database file to generate once and reuse on later runs (the generation takes minutes at
    /// ten million events); the runs after the first measure the same trail (sealing measures nothing new).
    /// </param>
    public static async Task RunAsync(int events, string? keepFile = null)
    {
        var reuse = keepFile is not null && File.Exists(keepFile);
        await using var host = await BenchHost.StartAsync(keepFile: keepFile);
        var trail = host.Services.GetRequiredService<AuditTrail>();
        var generate = Stopwatch.StartNew();
        if (!reuse)
        {
            await trail.SealAsync(CancellationToken.None);
            var unsealed = Math.Min(100_000, events / 10);
            await AuditVolumeGenerator.GenerateAsync(host.ConnectionString, events, unsealed, DateTimeOffset.UtcNow);
        }

        generate.Stop();
        var size = new FileInfo(host.File).Length;

        var seal = Stopwatch.StartNew();
        var sealedCount = await trail.SealAsync(CancellationToken.None);
        seal.Stop();

        var verifications = new List<(AuditVerification Result, double Seconds)>();
        for (var run = 0; run < 3; run++)
        {
            var verify = Stopwatch.StartNew();
            var verification = await trail.VerifyAsync(CancellationToken.None);
            verify.Stop();
            if (!verification.Intact)
            {
                throw new InvalidOperationException(verification.Summary);
            }

            verifications.Add((verification, verify.Elapsed.TotalSeconds));
        }

        Console.WriteLine();
        Console.WriteLine($"## Audit trail with {events:N0} events (SQLite, {size / 1_048_576.0:N0} MB; generated in {generate.Elapsed.TotalSeconds:0} s)");
        Console.WriteLine($"- sealing {sealedCount:N0} new events: {seal.Elapsed.TotalSeconds:0.00} s = {sealedCount / seal.Elapsed.TotalSeconds:N0} events/s");
        Console.WriteLine($"- verification of {verifications[0].Result.EventsVerified:N0} events in {verifications[0].Result.CheckpointsVerified:N0} checkpoints, three runs: " +
            string.Join(", ", verifications.Select(v => $"{v.Seconds:0.00} s = {v.Result.EventsVerified / v.Seconds:N0} rows/s")));
        if (Environment.GetEnvironmentVariable("BENCH_AUDIT_VERIFY_ONLY") is not null)
        {
            return;
        }

        var csv = await ExportAsync(host, AuditExportFormat.Csv);
        var jsonl = await ExportAsync(host, AuditExportFormat.JsonLines);

        var sample = await SampleAsync(host);
        var now = await LatestAsync(host);
        var filters = new (string Name, AuditFilter Filter)[]
        {
            ("no filter", new AuditFilter()),
            ("actor (an approver)", new AuditFilter(ActorId: sample.Approver)),
            ("actor (a user)", new AuditFilter(ActorId: sample.User)),
            ("target user", new AuditFilter(SubjectId: sample.User)),
            ("role", new AuditFilter(RoleId: DemoOrganisation.GlobalAdministrator.Id)),
            ("event type", new AuditFilter(Action: AuditActions.ActivationDeactivated)),
            ("outcome failed (rare)", new AuditFilter(Outcome: AuditOutcome.Failed)),
            ("one day, a year ago", new AuditFilter(From: now.AddDays(-365), To: now.AddDays(-364))),
            ("the last year", new AuditFilter(From: now.AddDays(-365), To: now)),
            ("a role in one month, a year ago", new AuditFilter(From: now.AddDays(-395), To: now.AddDays(-365), RoleId: DemoOrganisation.GlobalAdministrator.Id)),
            ("role + event type + outcome", new AuditFilter(RoleId: DemoOrganisation.GlobalAdministrator.Id, Action: AuditActions.ActivationRequested, Outcome: AuditOutcome.Refused)),
            ("target user + role, last March", new AuditFilter(From: new DateTimeOffset(now.Year - 1, 3, 1, 0, 0, 0, TimeSpan.Zero), To: new DateTimeOffset(now.Year - 1, 4, 1, 0, 0, 0, TimeSpan.Zero), SubjectId: sample.User, RoleId: DemoOrganisation.GlobalAdministrator.Id)),
            ("text: a ticket number", new AuditFilter(Text: sample.Ticket)),
            ("text: a word in justifications", new AuditFilter(Text: "conditional")),
        };

        Console.WriteLine($"- CSV: {csv.Rows:N0} rows in {csv.Seconds:0.00} s = {csv.Rows / csv.Seconds:N0} rows/s ({csv.Bytes / 1_048_576.0:0} MB)");
        Console.WriteLine($"- JSON lines: {jsonl.Rows:N0} rows in {jsonl.Seconds:0.00} s = {jsonl.Rows / jsonl.Seconds:N0} rows/s ({jsonl.Bytes / 1_048_576.0:0} MB)");
        Console.WriteLine("- search, first page of 50 (then the next page), newest first (SearchAudit):");
        foreach (var (name, filter) in filters)
        {
            var (first, next, rows) = await PagesAsync(host, filter);
            Console.WriteLine($"  - {name}: first page {Stats.Summary(first)}; next page p95 {Stats.Percentile([.. next.Order()], 95):0.0} ms; {rows} rows on the first page");
        }
    }

    /// <summary>The newest event's time: the generated trail ends at the time it was made.</summary>
    private static async Task<DateTimeOffset> LatestAsync(BenchHost host)
    {
        await using var db = await host.DbAsync();
        return await db.AuditEvents.OrderByDescending(e => e.Id).Select(e => e.OccurredAt).FirstAsync();
    }

    private static async Task<(Guid Approver, Guid User, string Ticket)> SampleAsync(BenchHost host)
    {
        await using var db = await host.DbAsync();
        var approval = await db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.ApprovalGiven).OrderByDescending(e => e.Id).FirstAsync();
        var requested = await db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.ActivationRequested && e.Id < approval.Id - 1_000_000).OrderByDescending(e => e.Id).FirstOrDefaultAsync()
            ?? await db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.ActivationRequested).OrderBy(e => e.Id).FirstAsync();
        var ticket = System.Text.Json.JsonDocument.Parse(requested.Details!).RootElement.GetProperty("ticketNumber").GetString()!;
        return (approval.ActorId!.Value, requested.ActorId!.Value, ticket);
    }

    private static async Task<(List<double> First, List<double> Next, int Rows)> PagesAsync(BenchHost host, AuditFilter filter)
    {
        var first = new List<double>();
        var next = new List<double>();
        var rows = 0;
        for (var i = 0; i < 40; i++)
        {
            await using var scope = host.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(DemoOrganisation.Dave.Id);
            var sender = scope.ServiceProvider.GetRequiredService<ISender>();
            var watch = Stopwatch.StartNew();
            var page = await sender.Send(new SearchAudit(filter));
            var firstMs = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            if (page.Next is { } more)
            {
                await sender.Send(new SearchAudit(filter, more));
            }

            var nextMs = watch.Elapsed.TotalMilliseconds;
            rows = page.Rows.Count;
            if (i >= 5)
            {
                first.Add(firstMs);
                next.Add(nextMs);
            }
        }

        return (first, next, rows);
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
