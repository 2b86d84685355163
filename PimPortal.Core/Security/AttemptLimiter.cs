using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PimPortal.Core.Security;

/// <summary>What is being attempted: each kind has its own limits (<see cref="RateLimitOptions"/>).</summary>
public enum AttemptKind
{
    SignIn,
    StepUp,
}

/// <summary>
/// Limits guessing — of passwords at sign-in and of authenticator codes at step-up — per client address and per account,
/// with .NET's rate limiter (fixed windows of failed attempts: people behind one NAT who type their password right are
/// never slowed). The address limit is below the account lockout, so a burst from one place is slowed before it can
/// lock anybody out; the account limit holds a guesser spread over many addresses.
/// Counted in this instance's memory: with N instances a guesser gets up to N times the limit (the lockouts, kept in
/// the database, still hold).
/// </summary>
public sealed class AttemptLimiter(IOptions<PimOptions> options) : IDisposable
{
    private readonly ConcurrentDictionary<(AttemptKind Kind, bool PerAccount), PartitionedRateLimiter<string>> limiters = new();

    // When each refused partition was last audited (ms of Environment.TickCount64): one audit event per window.
    private readonly ConcurrentDictionary<(AttemptKind Kind, bool PerAccount, string Key), long> audited = new();

    /// <summary>
    /// Whether an attempt for <paramref name="account"/> from <paramref name="address"/> may be tried now (nothing is
    /// counted: <see cref="CountFailure"/> does); refused, says which limit, when to retry, and whether to audit it —
    /// the first refusal of each limit in each window, so a flood of attempts does not flood the audit trail.
    /// </summary>
    public AttemptVerdict Check(AttemptKind kind, string? address, string account) => Take(kind, address, account, permits: 0);

    /// <summary>Counts a failed attempt (a wrong password, a wrong code) against the address and the account.</summary>
    public void CountFailure(AttemptKind kind, string? address, string account) => Take(kind, address, account, permits: 1);

    private AttemptVerdict Take(AttemptKind kind, string? address, string account, int permits)
    {
        ArgumentNullException.ThrowIfNull(account);
        var limits = kind == AttemptKind.SignIn ? options.Value.RateLimits.SignIn : options.Value.RateLimits.StepUp;
        var addressKey = address ?? "unknown";
        var byAddress = Acquire(kind, perAccount: false, limits.PerAddress, addressKey, permits);
        var accountKey = account.Trim().ToUpperInvariant();
        var byAccount = Acquire(kind, perAccount: true, limits.PerAccount, accountKey, permits);
        if (permits > 0)
        {
            return AttemptVerdict.Allowed;
        }

        if (byAddress is { } addressWait)
        {
            return new AttemptVerdict(false, addressWait, "address", FirstInWindow((kind, false, addressKey), limits.PerAddress.Window));
        }

        return byAccount is { } accountWait
            ? new AttemptVerdict(false, accountWait, "account", FirstInWindow((kind, true, accountKey), limits.PerAccount.Window))
            : AttemptVerdict.Allowed;
    }

    private bool FirstInWindow((AttemptKind, bool, string) partition, TimeSpan window)
    {
        var now = Environment.TickCount64;
        var first = false;
        audited.AddOrUpdate(partition, _ => { first = true; return now; }, (_, last) =>
        {
            first = now - last >= window.TotalMilliseconds;
            return first ? now : last;
        });
        if (audited.Count > 10_000)
        {
            // Stale entries of addresses long gone: whatever is older than a day goes.
            foreach (var entry in audited.Where(e => now - e.Value > TimeSpan.FromDays(1).TotalMilliseconds))
            {
                audited.TryRemove(entry);
            }
        }

        return first;
    }

    /// <summary>Null when let through (0 permits: when the window has any left); else how long until the next window.</summary>
    private TimeSpan? Acquire(AttemptKind kind, bool perAccount, WindowLimit limit, string key, int permits)
    {
        if (limit.PermitLimit <= 0)
        {
            return null;
        }

        var limiter = limiters.GetOrAdd((kind, perAccount), _ => PartitionedRateLimiter.Create<string, string>(k =>
            RateLimitPartition.GetFixedWindowLimiter(k, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limit.PermitLimit,
                Window = limit.Window,
                QueueLimit = 0,
                AutoReplenishment = true,
            }), StringComparer.Ordinal));
        using var lease = limiter.AttemptAcquire(key, permits);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : limit.Window;
    }

    public void Dispose()
    {
        foreach (var limiter in limiters.Values)
        {
            limiter.Dispose();
        }
    }
}

/// <summary>Whether the attempt may go on; refused, when to retry, which limit (<c>address</c> or <c>account</c>), and whether it is the window's first refusal (audit it).</summary>
public sealed record AttemptVerdict(bool IsAllowed, TimeSpan RetryAfter, string? Limit, bool ShouldAudit = false)
{
    public static readonly AttemptVerdict Allowed = new(true, TimeSpan.Zero, null);

    /// <summary>Whole seconds, rounded up, for Retry-After and for people.</summary>
    public int RetryAfterSeconds => (int)Math.Ceiling(RetryAfter.TotalSeconds);
}
