namespace PimPortal.Core;

/// <summary>Section <c>Pim:RateLimits</c>: how many failed attempts are allowed before the next must wait (429, Retry-After).</summary>
public sealed class RateLimitOptions
{
    /// <summary>
    /// Wrong passwords. From one address 5 a minute: a burst from one place is slowed before it can lock any account
    /// (the lockout comes after 10 wrong passwords in a row); for one account 8 in 5 minutes, from anywhere.
    /// </summary>
    public AttemptLimits SignIn { get; set; } = new()
    {
        PerAddress = new() { PermitLimit = 5, Window = TimeSpan.FromMinutes(1) },
        PerAccount = new() { PermitLimit = 8, Window = TimeSpan.FromMinutes(5) },
    };

    /// <summary>
    /// Wrong authenticator codes at step-up: 3 a minute for an account (the step-up lockout comes after 5 in a row, so a
    /// guesser is slowed first), 10 a minute from one address.
    /// </summary>
    public AttemptLimits StepUp { get; set; } = new()
    {
        PerAddress = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) },
        PerAccount = new() { PermitLimit = 3, Window = TimeSpan.FromMinutes(1) },
    };
}

/// <summary>One kind of attempt, limited from each client address and for each account.</summary>
public sealed class AttemptLimits
{
    public WindowLimit PerAddress { get; set; } = new();

    public WindowLimit PerAccount { get; set; } = new();
}

/// <summary><see cref="PermitLimit"/> failed attempts in each <see cref="Window"/>; 0 turns the limit off.</summary>
public sealed class WindowLimit
{
    public int PermitLimit { get; set; } = 5;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
