using System.Data.Common;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Alerts;
using PimPortal.Core.Features.Notifications;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Audit;

/// <summary>
/// The audit invariant: every command the system has is run as a user would run it, and every change it makes to the
/// database comes with audit events of that moment (actor, time, outcome) — written in the same transaction, so a
/// command cannot change state silently. A new command without a scenario here fails the suite.
/// </summary>
public sealed class AuditInvariantTests : IAsyncLifetime
{
    private static readonly IReadOnlyDictionary<Type, Func<TestApp, Task<(DemoAccount Actor, object Command)>>> Scenarios = CommandScenarios.All;

    /// <summary>Changes that are not state of the system but of one user's own view, and are not audited on purpose.</summary>
    private static readonly Dictionary<Type, string[]> UnauditedTables = new()
    {
        // Marking one's own notifications read changes what one's bell counts, nothing anyone is granted or decided.
        [typeof(MarkNotificationsRead)] = ["Notifications"],
    };

    /// <summary>Commands that read (their use is audited) and change no state.</summary>
    private static readonly HashSet<Type> Reads =
        [typeof(Core.Features.Audit.ExportAudit), typeof(Core.Features.Audit.VerifyAudit), typeof(Core.Features.Audit.ExportAuditDigest), typeof(ExportReviewReport)];

    private TestApp? app;

    private TestApp App => app!;

    public static TheoryData<string> Commands => [.. Scenarios.Keys.Select(t => t.Name).Order(StringComparer.Ordinal)];

    public async ValueTask InitializeAsync() => app = await TestApp.StartAsync(DatabaseKind.Sqlite);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
    }

    [Fact]
    public void EveryCommand_HasAScenario()
    {
        var commands = typeof(ActivateRoles).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IBaseCommand).IsAssignableFrom(t))
            .Select(t => t.Name)
            .Order(StringComparer.Ordinal);

        Assert.Equal(commands, Scenarios.Keys.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryStateChange_IsAudited_WithActorTimeAndOutcome(string command)
    {
        var type = Scenarios.Keys.Single(t => t.Name == command);
        var (actor, message) = await Scenarios[type](App);
        App.Time.Advance(TimeSpan.FromSeconds(1));
        var now = App.Time.GetUtcNow();
        var lastAudit = await App.Db(db => db.AuditEvents.MaxAsync(e => (long?)e.Id)) ?? 0;
        var before = await SnapshotAsync();

        await App.SendObjectAs(actor, message);

        var after = await SnapshotAsync();
        var exempt = UnauditedTables.GetValueOrDefault(type, []);
        var changed = after.Keys.Where(table => table != "AuditEvents" && !exempt.Contains(table) && !before[table].SequenceEqual(after[table])).ToList();
        var audits = await App.Db(db => db.AuditEvents.Where(e => e.Id > lastAudit).ToListAsync());
        if (Reads.Contains(type))
        {
            Assert.Empty(changed);
            Assert.Contains(audits, e => e.ActorId == actor.Id && e.OccurredAt == now);
            return;
        }

        Assert.True(changed.Count > 0 || exempt.Length > 0, $"{command} changed nothing: its scenario does not exercise it.");
        if (changed.Count == 0)
        {
            return;
        }

        Assert.True(audits.Count > 0, $"{command} changed {string.Join(", ", changed)} without an audit event.");
        Assert.All(audits, e =>
        {
            Assert.Equal(now, e.OccurredAt);
            Assert.False(string.IsNullOrWhiteSpace(e.ActorName));
            Assert.True(Enum.IsDefined(e.Outcome));
            Assert.False(string.IsNullOrWhiteSpace(e.Action));
        });
        Assert.Contains(audits, e => e.ActorId == actor.Id || (e.ActorId is null && type == typeof(EvaluateAlertsNow)));
    }

    /// <summary>Every row of every table, as text, sorted: two snapshots are equal when nothing was written.</summary>
    private Task<Dictionary<string, List<string>>> SnapshotAsync() => App.Db(async db =>
    {
        var tables = db.Model.GetEntityTypes().Select(e => e.GetTableName()).OfType<string>().Distinct().ToList();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var snapshot = new Dictionary<string, List<string>>();
        foreach (var table in tables)
        {
            await using var read = connection.CreateCommand();
            read.CommandText = $"SELECT * FROM \"{table}\"";
            await using DbDataReader reader = await read.ExecuteReaderAsync();
            var rows = new List<string>();
            while (await reader.ReadAsync())
            {
                rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            }

            rows.Sort(StringComparer.Ordinal);
            snapshot[table] = rows;
        }

        return snapshot;
    });
}
