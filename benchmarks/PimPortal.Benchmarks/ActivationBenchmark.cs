using System.Diagnostics;
using Mediator;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>
/// Activations per second through the real handler (pipeline, policy, request + grant + audit + outbox in one
/// transaction) beside the raw ceiling: the same rows inserted with plain ADO.NET, one transaction each, same file.
/// </summary>
internal static class ActivationBenchmark
{
    /// <summary>
    /// Rounds alternate handler and raw, so both see the same disk (whose fsync time drifts on a VM); the ratio is
    /// the median of the rounds'.
    /// </summary>
    public static async Task RunAsync(int count)
    {
        const int rounds = 10;
        const int warmup = 1000;
        var perRound = Math.Max(1, count / rounds);
        await using var host = await BenchHost.StartAsync();
        var role = DemoOrganisation.ExchangeAdministrator;
        var handlerUsers = new Queue<(Guid User, Guid Eligibility)>(await host.AddEligibleUsersAsync(perRound * rounds + warmup, role));
        var rawUsers = new Queue<(Guid User, Guid Eligibility)>(await host.AddEligibleUsersAsync(perRound * rounds + warmup, role));

        Task ActivateAsync((Guid User, Guid Eligibility) who) => host.ActivateAsync(who);

        await using var connection = new SqliteConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA foreign_keys = ON;";
            await pragma.ExecuteNonQueryAsync();
        }

        var raw = new RawActivationWriter(connection, role.Id);
        for (var i = 0; i < warmup; i++)
        {
            await ActivateAsync(handlerUsers.Dequeue());
            var who = rawUsers.Dequeue();
            raw.Write(who.User, who.Eligibility);
        }

        var handlerMs = new List<double>();
        var rawMs = new List<double>();
        Timing.Instance.Reset();
        var timedHandlerMs = 0.0;
        for (var round = 0; round < rounds; round++)
        {
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < perRound; i++)
            {
                await ActivateAsync(handlerUsers.Dequeue());
            }

            handlerMs.Add(watch.Elapsed.TotalMilliseconds / perRound);
            timedHandlerMs += watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            for (var i = 0; i < perRound; i++)
            {
                var who = rawUsers.Dequeue();
                raw.Write(who.User, who.Eligibility);
            }

            rawMs.Add(watch.Elapsed.TotalMilliseconds / perRound);
        }

        var ratios = handlerMs.Zip(rawMs, (h, r) => r / h).Order().ToList();
        var handler = handlerMs.Order().ElementAt(rounds / 2);
        var ceiling = rawMs.Order().ElementAt(rounds / 2);
        Console.WriteLine();
        Console.WriteLine($"## Activation on SQLite ({perRound * rounds} activations in {rounds} rounds, one role each, one after another)");
        Console.WriteLine($"- through the real handler: {1000 / handler:0} activations/s ({handler:0.00} ms each, median round)");
        Console.WriteLine($"- raw ADO.NET ceiling (the same 5 rows, one transaction each): {1000 / ceiling:0} activations/s ({ceiling:0.00} ms each, median round)");
        Console.WriteLine($"- ratio handler / raw: median {Stats.Percentile(ratios, 50):0.00} (rounds from {ratios[0]:0.00} to {ratios[^1]:0.00})");
        if (Timing.Instance.CommitMs > 0)
        {
            var n = perRound * rounds;
            Console.WriteLine($"- handler time per activation: SQL statements {Timing.Instance.CommandsMs / n:0.00} ms, commit {Timing.Instance.CommitMs / n:0.00} ms, everything else {(timedHandlerMs - Timing.Instance.CommandsMs - Timing.Instance.CommitMs) / n:0.00} ms");
        }
    }

    /// <summary>Inserts what one activation writes (request, grant, two audit events, outbox message) in one transaction.</summary>
    private sealed class RawActivationWriter(SqliteConnection connection, Guid roleId)
    {
        private static readonly DateTimeOffsetToBinaryConverter Instant = new();

        public void Write(Guid user, Guid eligibility)
        {
            var now = (long)Instant.ConvertToProvider(DateTimeOffset.UtcNow)!;
            var end = (long)Instant.ConvertToProvider(DateTimeOffset.UtcNow.AddHours(1))!;
            var request = Guid.NewGuid();
            var activation = Guid.NewGuid();
            using var transaction = connection.BeginTransaction();
            Execute(transaction, """
                INSERT INTO ActivationRequests (Id, Kind, RequesterId, RoleId, EligibilityId, Scope, Justification, RequestedStart, Duration, Status, CreatedAt, DecidedAt, ApprovalsNeeded, ActivationId, Version)
                VALUES ($id, 'Activate', $user, $role, $eligibility, '/', 'Benchmark', $now, '01:00:00', 'Approved', $now, $now, 0, $activation, $version)
                """, ("$id", request), ("$user", user), ("$role", roleId), ("$eligibility", eligibility), ("$now", now), ("$activation", activation), ("$version", Guid.NewGuid()));
            Execute(transaction, """
                INSERT INTO RoleActivations (Id, RequestId, EligibilityId, PrincipalId, RoleId, Scope, Status, NotBefore, NotAfter, CreatedAt, Version)
                VALUES ($id, $request, $eligibility, $user, $role, '/', 'Provisioning', $now, $end, $now, $version)
                """, ("$id", activation), ("$request", request), ("$eligibility", eligibility), ("$user", user), ("$role", roleId), ("$now", now), ("$end", end), ("$version", Guid.NewGuid()));
            foreach (var (action, target) in new[] { ("activation.requested", request), ("activation.granted", activation) })
            {
                Execute(transaction, """
                    INSERT INTO AuditEvents (OccurredAt, ActorId, ActorName, Action, TargetType, TargetId, SubjectId, RoleId, Outcome, Details, ClientAddress, UserAgent, CorrelationId)
                    VALUES ($now, $user, 'Bench user', $action, 'activation', $target, $user, $role, 'Success', '{"role":"Exchange Administrator","duration":"01:00:00"}', '127.0.0.1', 'PimPortal.Benchmarks', $correlation)
                    """, ("$now", now), ("$user", user), ("$action", action), ("$target", target.ToString()), ("$role", roleId), ("$correlation", request.ToString("N")));
            }

            Execute(transaction, """
                INSERT INTO OutboxMessages (Id, Type, TargetId, CreatedAt, DueAt, Attempts)
                VALUES ($id, 'ProvisionGrant', $activation, $now, $now, 0)
                """, ("$id", Guid.NewGuid()), ("$activation", activation), ("$now", now));
            transaction.Commit();
        }

        private void Execute(SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value is Guid g ? g.ToString().ToUpperInvariant() : value);
            }

            command.ExecuteNonQuery();
        }
    }
}
