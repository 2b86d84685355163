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
    // Per kind and scope: the failures, and one permit a window for auditing a refusal (so a flood is audited once).
    private readonly ConcurrentDictionary<(AttemptKind Kind, bool PerAccount, bool Audit), PartitionedRateLimiter<string>> limiters = new();

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
        var accountKey = account.Trim().ToUpperInvariant();
        var byAddress = Acquire((kind, false, false), limits.PerAddress.PermitLimit, limits.PerAddress.Window, addressKey, permits);
        var byAccount = Acquire((kind, true, false), limits.PerAccount.PermitLimit, limits.PerAccount.Window, accountKey, permits);
        return (permits, byAddress, byAccount) switch
        {
            (0, { } wait, _) => new AttemptVerdict(false, wait, "address", FirstInWindow((kind, false, true), limits.PerAddress.Window, addressKey)),
            (0, null, { } wait) => new AttemptVerdict(false, wait, "account", FirstInWindow((kind, true, true), limits.PerAccount.Window, accountKey)),
            _ => AttemptVerdict.Allowed,
        };
    }

    private bool FirstInWindow((AttemptKind, bool, bool) limiter, TimeSpan window, string key) => Acquire(limiter, 1, window, key, 1) is null;

    /// <summary>Null when let through (0 permits: when the window has any left); else how long until the next window.</summary>
    private TimeSpan? Acquire((AttemptKind Kind, bool PerAccount, bool Audit) which, int permitLimit, TimeSpan window, string key, int permits)
    {
        if (permitLimit <= 0)
        {
            return null;
        }

        var limiter = limiters.GetOrAdd(which, _ => PartitionedRateLimiter.Create<string, string>(k =>
            RateLimitPartition.GetFixedWindowLimiter(k, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permitLimit,
                Window = window,
                QueueLimit = 0,
                AutoReplenishment = true,
            }), StringComparer.Ordinal));
        using var lease = limiter.AttemptAcquire(key, permits);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : window;
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
