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
    public static async Task RunAsync(int count)
    {
        await using var host = await BenchHost.StartAsync();
        var role = DemoOrganisation.ExchangeAdministrator;
        const int warmup = 1000;
        var handlerUsers = await host.AddEligibleUsersAsync(count + warmup, role);
        var rawUsers = await host.AddEligibleUsersAsync(count + warmup, role);

        async Task ActivateAsync((Guid User, Guid Eligibility) who)
        {
            await using var scope = host.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<BenchUser>().SignIn(who.User);
            await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ActivateRoles(
                [new ActivationItem(who.Eligibility, TimeSpan.FromHours(1))], "Benchmark", null, null, null));
        }

        foreach (var who in handlerUsers.Take(warmup))
        {
            await ActivateAsync(who);
        }

        Timing.Instance.Reset();
        var handlerWatch = Stopwatch.StartNew();
        foreach (var who in handlerUsers.Skip(warmup))
        {
            await ActivateAsync(who);
        }

        handlerWatch.Stop();
        var (commandsMs, commitMs) = (Timing.Instance.CommandsMs, Timing.Instance.CommitMs);

        await using var connection = new SqliteConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA foreign_keys = ON;";
            await pragma.ExecuteNonQueryAsync();
        }

        var raw = new RawActivationWriter(connection, role.Id);
        foreach (var who in rawUsers.Take(warmup))
        {
            raw.Write(who.User, who.Eligibility);
        }

        var rawWatch = Stopwatch.StartNew();
        foreach (var who in rawUsers.Skip(warmup))
        {
            raw.Write(who.User, who.Eligibility);
        }

        rawWatch.Stop();

        // The same, with 8 users activating at once (a portal serves many circuits): one writer at a time, but each
        // request's reads and CPU overlap the others' commits.
        var concurrentUsers = await host.AddEligibleUsersAsync(count, role);
        var queue = new System.Collections.Concurrent.ConcurrentQueue<(Guid User, Guid Eligibility)>(concurrentUsers);
        var concurrentWatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (queue.TryDequeue(out var who))
            {
                await ActivateAsync(who);
            }
        })));
        concurrentWatch.Stop();

        var handlerRate = count / handlerWatch.Elapsed.TotalSeconds;
        var rawRate = count / rawWatch.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"## Activation on SQLite ({count} activations, one role each, sequential)");
        Console.WriteLine($"- through the real handler: {handlerRate:0} activations/s ({handlerWatch.Elapsed.TotalMilliseconds / count:0.00} ms each)");
        Console.WriteLine($"- raw ADO.NET ceiling (same 5 rows, one transaction each): {rawRate:0} activations/s ({rawWatch.Elapsed.TotalMilliseconds / count:0.00} ms each)");
        Console.WriteLine($"- ratio handler / raw, one at a time: {handlerRate / rawRate:0.00}");
        var concurrentRate = count / concurrentWatch.Elapsed.TotalSeconds;
        Console.WriteLine($"- through the real handler, 8 users at once: {concurrentRate:0} activations/s; ratio to the raw ceiling: {concurrentRate / rawRate:0.00}");
        if (commitMs > 0)
        {
            Console.WriteLine($"- handler breakdown per activation: SQL statements {commandsMs / count:0.00} ms, commit {commitMs / count:0.00} ms, the rest {(handlerWatch.Elapsed.TotalMilliseconds - commandsMs - commitMs) / count:0.00} ms");
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
                INSERT INTO OutboxMessages (Id, Type, ActivationId, CreatedAt, DueAt, Attempts)
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
