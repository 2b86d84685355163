namespace PimPortal.Core.Domain;

/// <summary>
/// A principal's multi-factor step-up state: the last authenticator time step accepted (so no code is used twice),
/// when — and in which session — they last proved MFA, and consecutive failures (so codes cannot be guessed).
/// </summary>
public sealed class MfaState
{
    /// <summary>Consecutive wrong codes before step-up is locked for a while.</summary>
    public const int MaxFailedAttempts = 5;

    private MfaState()
    {
    }

    public MfaState(Guid principalId)
    {
        PrincipalId = principalId;
        Version = Guid.NewGuid();
    }

    public Guid PrincipalId { get; private set; }

    /// <summary>The TOTP time step (Unix time / 30 s) of the last accepted code; a code of this step or earlier is refused.</summary>
    public long LastAcceptedTimeStep { get; private set; }

    public DateTimeOffset? LastVerifiedAt { get; private set; }

    /// <summary>
    /// The sign-in session that proved MFA last. The proof spares further codes only in that session: another
    /// session of the same account (another browser, a stolen cookie) must prove MFA itself.
    /// </summary>
    public string? LastVerifiedSession { get; private set; }

    public int FailedAttempts { get; private set; }

    public DateTimeOffset? LockedUntil { get; private set; }

    /// <summary>Changes on every change, so two requests racing on the same state cannot both win.</summary>
    public Guid Version { get; private set; }

    public bool IsLockedAt(DateTimeOffset now) => LockedUntil is { } until && now < until;

    /// <summary>When the proof last given in <paramref name="session"/> was given; null when that session has none.</summary>
    public DateTimeOffset? VerifiedIn(string? session) =>
        session is not null && session == LastVerifiedSession ? LastVerifiedAt : null;

    public void Failed(DateTimeOffset now, TimeSpan lockout)
    {
        FailedAttempts++;
        if (FailedAttempts >= MaxFailedAttempts)
        {
            LockedUntil = now + lockout;
            FailedAttempts = 0;
        }

        Version = Guid.NewGuid();
    }

    /// <summary>
    /// The account's credentials were reset: the last proof no longer spares a code in any session (whoever holds the
    /// new password or authenticator proves it afresh). Used codes stay used.
    /// </summary>
    public void VoidProof()
    {
        LastVerifiedAt = null;
        LastVerifiedSession = null;
        Version = Guid.NewGuid();
    }

    public void Verified(long timeStep, string? session, DateTimeOffset now)
    {
        if (timeStep <= LastAcceptedTimeStep)
        {
            throw new DomainRuleException("This code was already used.");
        }

        LastAcceptedTimeStep = timeStep;
        LastVerifiedAt = now;
        LastVerifiedSession = session;
        FailedAttempts = 0;
        LockedUntil = null;
        Version = Guid.NewGuid();
    }
}
