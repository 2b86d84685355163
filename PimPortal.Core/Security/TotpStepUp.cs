using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>
/// Multi-factor step-up at the moment of activation. The embedded default checks a TOTP code from the user's
/// authenticator; the Entra mode replaces it with Conditional Access evidence.
/// </summary>
public interface IMfaStepUp
{
    /// <summary>When the principal last proved MFA, or null.</summary>
    Task<DateTimeOffset?> LastVerifiedAtAsync(PimDbContext db, Guid principalId, CancellationToken cancellationToken);

    /// <summary>
    /// Checks <paramref name="proof"/> and records it on <paramref name="db"/> without saving: the caller's one
    /// SaveChanges commits the proof with the change it allowed, and a concurrent second use of the same proof fails
    /// there. A wrong or replayed proof is recorded at once and refused with <see cref="RefusedException"/>.
    /// </summary>
    Task<DateTimeOffset> VerifyAsync(PimDbContext db, RequestContext context, string? proof, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>TOTP step-up: each code is single use (its time step is remembered) and five wrong codes lock it for a while.</summary>
public sealed class TotpStepUp(IOptions<PimOptions> options) : IMfaStepUp
{
    /// <summary>Where ASP.NET Core Identity keeps a user's authenticator key.</summary>
    public const string KeyLoginProvider = "[AspNetUserStore]";
    public const string KeyName = "AuthenticatorKey";

    public async Task<DateTimeOffset?> LastVerifiedAtAsync(PimDbContext db, Guid principalId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.MfaStates.AsNoTracking()
            .Where(s => s.PrincipalId == principalId)
            .Select(s => s.LastVerifiedAt)
            .SingleOrDefaultAsync(cancellationToken);
    }

    public async Task<DateTimeOffset> VerifyAsync(PimDbContext db, RequestContext context, string? proof, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(context);
        var principalId = context.Actor.PrincipalId;
        if (string.IsNullOrWhiteSpace(proof))
        {
            throw new RefusedException("Enter the 6-digit code from your authenticator app.");
        }

        var key = await db.UserTokens.AsNoTracking()
            .Where(t => t.UserId == principalId && t.LoginProvider == KeyLoginProvider && t.Name == KeyName)
            .Select(t => t.Value)
            .SingleOrDefaultAsync(cancellationToken);
        if (string.IsNullOrEmpty(key))
        {
            throw new RefusedException("You have no authenticator set up, so you cannot prove MFA; ask a PIM administrator.");
        }

        var state = await db.MfaStates.SingleOrDefaultAsync(s => s.PrincipalId == principalId, cancellationToken);
        if (state is null)
        {
            state = new MfaState(principalId);
            db.MfaStates.Add(state);
        }

        if (state.IsLockedAt(now))
        {
            throw new RefusedException($"Too many wrong codes: try again after {state.LockedUntil:HH:mm:ss} UTC.");
        }

        var step = Totp.Verify(Base32.Decode(key), proof, now);
        string? failure = step switch
        {
            null => "The authenticator code is wrong or has expired.",
            _ when step <= state.LastAcceptedTimeStep => "This authenticator code was already used; wait for the next one.",
            _ => null,
        };
        if (failure is not null)
        {
            await RecordFailureAsync(db, state, context, failure, now, cancellationToken);
            throw new RefusedException(failure);
        }

        state.Verified(step!.Value, now);
        db.AuditEvents.Add(context.Audit(now, AuditActions.MfaVerified, "principal", principalId.ToString(), AuditOutcome.Success, new { method = "totp" }, principalId));
        return now;
    }

    private async Task RecordFailureAsync(PimDbContext db, MfaState state, RequestContext context, string failure, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Only the failure is saved here; nothing the caller has staged is on this context yet.
        state.Failed(now, options.Value.StepUp.LockoutFor);
        db.AuditEvents.Add(context.Audit(now, AuditActions.MfaFailed, "principal", state.PrincipalId.ToString(), AuditOutcome.Refused, new { method = "totp", reason = failure }, state.PrincipalId));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A concurrent verification changed the state first; the refusal stands either way.
            db.ChangeTracker.Clear();
        }
    }
}
