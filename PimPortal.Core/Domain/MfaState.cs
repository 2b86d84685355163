namespace PimPortal.Core.Domain;

/// <summary>
/// A principal's multi-factor step-up state: the last authenticator time step accepted (so no code is used twice),
/// when they last proved MFA, and consecutive failures (so codes cannot be guessed).
/// </summary>
public sealed class MfaState
{
    /// <summary>Consecutive wrong codes before step-up is locked for a while.</summary>
    public const int MaxFailedAttempts = 5;

    private MfaState()
    {
    }

    public MfaState(Guid principalId) => PrincipalId = principalId;

    public Guid PrincipalId { get; private set; }

    /// <summary>The TOTP time step (Unix time / 30 s) of the last accepted code; a code of this step or earlier is refused.</summary>
    public long LastAcceptedTimeStep { get; private set; }

    public DateTimeOffset? LastVerifiedAt { get; private set; }

    public int FailedAttempts { get; private set; }

    public DateTimeOffset? LockedUntil { get; private set; }

    public bool IsLockedAt(DateTimeOffset now) => LockedUntil is { } until && now < until;

    public void Failed(DateTimeOffset now, TimeSpan lockout)
    {
        FailedAttempts++;
        if (FailedAttempts >= MaxFailedAttempts)
        {
            LockedUntil = now + lockout;
            FailedAttempts = 0;
        }
    }

    public void Verified(long timeStep, DateTimeOffset now)
    {
        if (timeStep <= LastAcceptedTimeStep)
        {
            throw new DomainRuleException("This code was already used.");
        }

        LastAcceptedTimeStep = timeStep;
        LastVerifiedAt = now;
        FailedAttempts = 0;
        LockedUntil = null;
    }
}
