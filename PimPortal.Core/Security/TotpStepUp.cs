using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>TOTP step-up: each code is single use (its time step is remembered) and five wrong codes lock it for a while.</summary>
public sealed class TotpStepUp(IOptions<PimOptions> options, AuthenticatorKeys keys, AttemptLimiter limiter) : IMfaStepUp
{
    public async Task<DateTimeOffset?> LastVerifiedAtAsync(PimDbContext db, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(actor);
        var state = await db.MfaStates.AsNoTracking().SingleOrDefaultAsync(s => s.PrincipalId == actor.PrincipalId, cancellationToken);
        return state?.VerifiedIn(actor.SessionId);
    }

    public async Task<DateTimeOffset> VerifyAsync(PimDbContext db, RequestContext context, string? proof, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(context);
        var actor = context.Actor;
        if (string.IsNullOrWhiteSpace(proof))
        {
            throw new RefusedException("Enter the 6-digit code from your authenticator app.");
        }

        // Guessing is slowed per address and per account before the code is checked (or the lockout counts it).
        var verdict = limiter.Check(AttemptKind.StepUp, context.Client.Address, actor.PrincipalId.ToString());
        if (!verdict.IsAllowed)
        {
            if (verdict.ShouldAudit)
            {
                db.AuditEvents.Add(context.Audit(now, AuditActions.MfaRateLimited, "principal", actor.PrincipalId.ToString(), AuditOutcome.Refused,
                    new { method = "totp", limit = verdict.Limit, retryAfterSeconds = verdict.RetryAfterSeconds }, actor.PrincipalId));
                await db.SaveChangesAsync(cancellationToken);
            }

            throw new RateLimitedException($"Too many code attempts: try again in {verdict.RetryAfterSeconds} s.", verdict.RetryAfter);
        }

        var key = await db.UserTokens.AsNoTracking()
            .Where(t => t.UserId == actor.PrincipalId && t.LoginProvider == AuthenticatorKeys.LoginProvider && t.Name == AuthenticatorKeys.Name)
            .Select(t => t.Value)
            .SingleOrDefaultAsync(cancellationToken);
        if (string.IsNullOrEmpty(key))
        {
            throw new RefusedException("You have no authenticator set up, so you cannot prove MFA; ask a PIM administrator.");
        }

        var state = await LoadStateAsync(db, actor.PrincipalId, cancellationToken);
        if (state.IsLockedAt(now))
        {
            throw new RefusedException($"Too many wrong codes: try again after {state.LockedUntil:HH:mm:ss} UTC.");
        }

        byte[] secret;
        try
        {
            secret = Base32.Decode(keys.Reveal(actor.PrincipalId, key));
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            // Encrypted for another account (a row copied over), or with a key ring this instance does not have.
            throw new RefusedException("Your authenticator key cannot be read here, so you cannot prove MFA; ask a PIM administrator to set up your authenticator again.");
        }

        var step = Totp.Verify(secret, proof, now);
        if (step is null || step <= state.LastAcceptedTimeStep)
        {
            var failure = step is null
                ? "The authenticator code is wrong or has expired."
                : "This authenticator code was already used; wait for the next one.";
            limiter.CountFailure(AttemptKind.StepUp, context.Client.Address, actor.PrincipalId.ToString());
            await RecordFailureAsync(db, context, failure, now, cancellationToken);
            throw new RefusedException(failure);
        }

        state.Verified(step.Value, actor.SessionId, now);
        db.AuditEvents.Add(context.Audit(now, AuditActions.MfaVerified, "principal", actor.PrincipalId.ToString(), AuditOutcome.Success, new { method = "totp" }, actor.PrincipalId));
        return now;
    }

    /// <summary>The principal's state, tracked; its row is created first if it has none, so every change is an update guarded by its version.</summary>
    private static async Task<MfaState> LoadStateAsync(PimDbContext db, Guid principalId, CancellationToken cancellationToken)
    {
        if (await db.MfaStates.SingleOrDefaultAsync(s => s.PrincipalId == principalId, cancellationToken) is { } existing)
        {
            return existing;
        }

        var created = db.MfaStates.Add(new MfaState(principalId));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // A concurrent request created it first; use theirs. Only this entry is dropped: the caller may already
            // track what it is about to change (the activation an extension moves).
            created.State = EntityState.Detached;
        }

        return await db.MfaStates.SingleAsync(s => s.PrincipalId == principalId, cancellationToken);
    }

    /// <summary>Counts the failure — exactly once even when wrong codes arrive in parallel — with its audit event.</summary>
    private async Task RecordFailureAsync(PimDbContext db, RequestContext context, string failure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var principalId = context.Actor.PrincipalId;
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var state = await db.MfaStates.SingleAsync(s => s.PrincipalId == principalId, cancellationToken);
            state.Failed(now, options.Value.StepUp.LockoutFor);
            db.AuditEvents.Add(context.Audit(now, AuditActions.MfaFailed, "principal", principalId.ToString(), AuditOutcome.Refused,
                new { method = "totp", reason = failure, failedAttempts = state.FailedAttempts, lockedUntil = state.LockedUntil }, principalId));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
                return;
            }
            catch (DbUpdateConcurrencyException) when (attempt < 10)
            {
                // Another failure (or success) was counted first: count this one on top of it.
            }
        }
    }
}
