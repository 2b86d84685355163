using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>
/// Entra mode's step-up: Conditional Access authentication context. The proof an activation carries is the id of a
/// <see cref="StepUpChallenge"/> that Entra's token verified — for this user, unused, at most
/// <see cref="StepUpOptions.FreshFor"/> old. A claim in the session cookie proves nothing here: only a challenge
/// verified when its token was validated does.
/// </summary>
public sealed class EntraStepUp(IOptions<PimOptions> options) : IMfaStepUp
{
    /// <summary>No proof outlives its one activation in Entra mode: every activation that needs MFA steps up.</summary>
    public Task<DateTimeOffset?> LastVerifiedAtAsync(PimDbContext db, Actor actor, CancellationToken cancellationToken) =>
        Task.FromResult<DateTimeOffset?>(null);

    public async Task<DateTimeOffset> VerifyAsync(PimDbContext db, RequestContext context, string? proof, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(context);
        if (!StepUpProof.TryParse(proof, out var id))
        {
            throw new RefusedException("This role requires multi-factor authentication: verify with Microsoft (Conditional Access) to activate it.");
        }

        var challenge = await db.StepUpChallenges.SingleOrDefaultAsync(c => c.Id == id && c.PrincipalId == context.Actor.PrincipalId, cancellationToken);
        var refusal = challenge switch
        {
            null => "That verification is not yours, or does not exist.",
            { VerifiedAt: null } => "The verification with Microsoft was not completed.",
            { UsedAt: not null } => "That verification was already used; verify again.",
            { VerifiedAt: { } at } when now - at > options.Value.StepUp.FreshFor || at > now => "The verification with Microsoft is more than a few minutes old; verify again.",
            _ => null,
        };
        if (refusal is not null)
        {
            db.ChangeTracker.Clear();
            db.AuditEvents.Add(context.Audit(now, AuditActions.MfaFailed, "principal", context.Actor.PrincipalId.ToString(), AuditOutcome.Refused,
                new { method = "conditional-access", challenge = id, reason = refusal }, context.Actor.PrincipalId));
            await db.SaveChangesAsync(cancellationToken);
            throw new RefusedException(refusal);
        }

        // Single use: saved with the activation it allows; a second use at the same moment fails on the version.
        challenge!.Use(now);
        db.AuditEvents.Add(context.Audit(now, AuditActions.MfaVerified, "principal", context.Actor.PrincipalId.ToString(), AuditOutcome.Success,
            new { method = "conditional-access", context = challenge.Context, challenge = id, verifiedAt = challenge.VerifiedAt }, context.Actor.PrincipalId));
        return challenge.VerifiedAt!.Value;
    }
}

/// <summary>How an activation names its Conditional Access proof: <c>stepup:{challenge id}</c>.</summary>
public static class StepUpProof
{
    private const string Prefix = "stepup:";

    public static string For(Guid challengeId) => Prefix + challengeId.ToString("D");

    public static bool TryParse(string? proof, out Guid challengeId)
    {
        challengeId = Guid.Empty;
        return proof is not null && proof.StartsWith(Prefix, StringComparison.Ordinal) && Guid.TryParseExact(proof[Prefix.Length..], "D", out challengeId);
    }
}

/// <summary>
/// The rule for what proves a step-up: the token Entra issued for this challenge — the challenge's own user (object
/// id), the authentication context asked for in its <c>acrs</c> claim, and an authentication no older than the
/// freshness window. Pure: unit-tested with hand-built principals.
/// </summary>
public static class StepUpEvidence
{
    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>Why <paramref name="token"/> does not verify <paramref name="challenge"/>, or null when it does.</summary>
    public static string? Refusal(ClaimsPrincipal token, StepUpChallenge challenge, string context, TimeSpan freshFor, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(challenge);
        var oid = token.FindFirst(ObjectIdClaim)?.Value ?? token.FindFirst("oid")?.Value;
        if (!Guid.TryParse(oid, out var objectId) || objectId != challenge.PrincipalId)
        {
            return "the token is for another user";
        }

        if (challenge.VerifiedAt is not null || challenge.UsedAt is not null)
        {
            return "the step-up was already verified";
        }

        if (now - challenge.CreatedAt > freshFor)
        {
            return "the step-up was started too long ago";
        }

        var contexts = token.FindAll("acrs").SelectMany(c => c.Value.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        if (!contexts.Contains(context, StringComparer.Ordinal))
        {
            return $"the token does not carry the authentication context {context}";
        }

        // When the user authenticated (auth_time, an optional claim the app registration must add) — not when the
        // token was issued (iat), which is always recent.
        var authenticated = Seconds(token, "auth_time");
        if (authenticated is null)
        {
            return "the token does not say when the user authenticated (add the auth_time optional claim)";
        }

        if (authenticated is not { } at || now - at > freshFor || at - now > TimeSpan.FromMinutes(5))
        {
            return "the authentication is not recent";
        }

        return null;
    }

    private static DateTimeOffset? Seconds(ClaimsPrincipal token, string claim) =>
        long.TryParse(token.FindFirst(claim)?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}

/// <summary>Records a step-up's evidence when Entra's token for it is validated (called by the web host's OIDC events).</summary>
public sealed class StepUpRecorder(IDbContextFactory<PimDbContext> dbFactory, IOptions<PimOptions> options, TimeProvider time)
{
    /// <summary>
    /// Whether <paramref name="challengeId"/> is <paramref name="principalId"/>'s, still waits for its verification,
    /// and was started in this browser (<paramref name="browserNonce"/>).
    /// </summary>
    public async Task<bool> IsWaitingAsync(Guid challengeId, Guid principalId, string? browserNonce, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow() - options.Value.StepUp.FreshFor;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var challenge = await db.StepUpChallenges.AsNoTracking()
            .SingleOrDefaultAsync(c => c.Id == challengeId && c.PrincipalId == principalId && c.VerifiedAt == null && c.CreatedAt >= since, cancellationToken);
        return challenge is not null && challenge.StartedIn(browserNonce);
    }

    /// <summary>Verifies <paramref name="challengeId"/> with <paramref name="token"/>; returns why not, or null when verified.</summary>
    public async Task<string?> RecordAsync(Guid challengeId, ClaimsPrincipal token, ClientInfo client, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value.StepUp;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var challenge = await db.StepUpChallenges.SingleOrDefaultAsync(c => c.Id == challengeId, cancellationToken);
        var refusal = challenge is null ? "no such step-up" : StepUpEvidence.Refusal(token, challenge, settings.AuthenticationContext, settings.FreshFor, now);
        var actor = new Actor(challenge?.PrincipalId ?? Guid.Empty, token.Identity?.Name ?? "unknown", new HashSet<string>());
        if (refusal is null)
        {
            challenge!.Verified(settings.AuthenticationContext, now);
        }

        db.AuditEvents.Add(AuditFactory.Create(actor, client, now, refusal is null ? AuditActions.StepUpVerified : AuditActions.MfaFailed, "step-up", challengeId.ToString(),
            refusal is null ? AuditOutcome.Success : AuditOutcome.Refused, new { method = "conditional-access", context = settings.AuthenticationContext, reason = refusal }, challenge?.PrincipalId));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return "the step-up was verified by another response";
        }

        return refusal;
    }
}

/// <summary>(De)serializes the activation a step-up waits for.</summary>
internal static class StepUpDrafts
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Write<T>(T draft) => JsonSerializer.Serialize(draft, Json);

    public static T Read<T>(string draft) => JsonSerializer.Deserialize<T>(draft, Json) ?? throw new DomainRuleException("What waited for the step-up could not be read.");
}
