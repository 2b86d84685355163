using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>
/// Multi-factor step-up at the moment of activation. The embedded default checks a TOTP code from the user's
/// authenticator; the Entra mode replaces it with Conditional Access evidence.
/// </summary>
public interface IMfaStepUp
{
    /// <summary>When the actor last proved MFA in this session, or null.</summary>
    Task<DateTimeOffset?> LastVerifiedAtAsync(PimDbContext db, Actor actor, CancellationToken cancellationToken);

    /// <summary>
    /// Checks <paramref name="proof"/> and records it on <paramref name="db"/> without saving: the caller's one
    /// SaveChanges commits the proof with the change it allowed, and a concurrent second use of the same proof fails
    /// there. A wrong or replayed proof is recorded at once and refused with <see cref="RefusedException"/>. Call it
    /// before anything else is staged on <paramref name="db"/>.
    /// </summary>
    Task<DateTimeOffset> VerifyAsync(PimDbContext db, RequestContext context, string? proof, DateTimeOffset now, CancellationToken cancellationToken);
}
