using System.Data.Common;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace PimPortal.Benchmarks;

/// <summary>Where an EF command's time goes: statements executed, and commits.</summary>
internal sealed class Timing : IDbCommandInterceptor, IDbTransactionInterceptor
{
    public static readonly Timing Instance = new();

    private static readonly AsyncLocal<long> Started = new();

    public double CommandsMs { get; private set; }

    public double CommitMs { get; private set; }

    public void Reset() => (CommandsMs, CommitMs) = (0, 0);

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Started.Value = Stopwatch.GetTimestamp();
        return ValueTask.FromResult(result);
    }

    public ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        CommandsMs += Stopwatch.GetElapsedTime(Started.Value).TotalMilliseconds;
        return ValueTask.FromResult(result);
    }

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        Started.Value = Stopwatch.GetTimestamp();
        return ValueTask.FromResult(result);
    }

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        CommitMs += Stopwatch.GetElapsedTime(Started.Value).TotalMilliseconds;
        return Task.CompletedTask;
    }
}
