using Microsoft.EntityFrameworkCore;

namespace PimPortal.Core.Persistence;

/// <summary>
/// Runs a command again, from a fresh read, when its save lost an optimistic-concurrency race (a worker confirmed the
/// same grant a moment earlier, say). Each attempt must open its own context. After the last attempt the user gets
/// <paramref name="conflictMessage"/>.
/// </summary>
public static class OptimisticRetry
{
    public const int Attempts = 3;

    public static async ValueTask<T> RunAsync<T>(Func<ValueTask<T>> attempt, string conflictMessage)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        for (var i = 1; ; i++)
        {
            try
            {
                return await attempt();
            }
            catch (DbUpdateConcurrencyException) when (i < Attempts)
            {
                // Someone else changed the rows first: read them again and decide again.
            }
            catch (DbUpdateConcurrencyException)
            {
                throw new ConflictException(conflictMessage);
            }
        }
    }
}
