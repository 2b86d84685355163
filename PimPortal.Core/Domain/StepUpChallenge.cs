namespace PimPortal.Core.Domain;

/// <summary>
/// One Conditional Access step-up (Entra mode) for one activation: created when the user submits an activation that
/// needs MFA, carrying that activation as it was filled in; verified when Entra's token for it comes back with the
/// authentication context; used once, by that activation, within minutes.
/// </summary>
public sealed class StepUpChallenge
{
    /// <summary>The longest draft kept (the activation as filled in, serialized).</summary>
    public const int MaxDraftLength = 8000;

    private StepUpChallenge()
    {
    }

    public StepUpChallenge(Guid id, Guid principalId, string draft, DateTimeOffset now, string? browserNonceHash = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(draft);
        if (draft.Length > MaxDraftLength)
        {
            throw new DomainRuleException("What waits for the step-up is too large.");
        }

        Id = id;
        PrincipalId = principalId;
        Draft = draft;
        BrowserNonceHash = browserNonceHash;
        CreatedAt = now;
        Version = Guid.NewGuid();
    }

    public Guid Id { get; private set; }

    /// <summary>Whose step-up it is: only this principal's token can verify it, and only they can use it.</summary>
    public Guid PrincipalId { get; private set; }

    /// <summary>The activation waiting for the step-up (a serialized command, without any proof).</summary>
    public string Draft { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>
    /// SHA-256 (hex) of a secret the browser that started the step-up keeps; the round trip to Microsoft starts only in
    /// that browser, so a stolen session cannot send its victim a link that verifies the thief's activation.
    /// </summary>
    public string? BrowserNonceHash { get; private set; }

    /// <summary>Whether <paramref name="nonce"/> is the secret of the browser that started this step-up.</summary>
    public bool StartedIn(string? nonce) =>
        BrowserNonceHash is { } expected && nonce is { Length: > 0 }
        && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(expected),
            System.Text.Encoding.ASCII.GetBytes(HashNonce(nonce)));

    public static string HashNonce(string nonce) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(nonce)));

    /// <summary>When Entra's token proved the authentication context for it; null until then.</summary>
    public DateTimeOffset? VerifiedAt { get; private set; }

    /// <summary>The authentication context the token carried (e.g. c1).</summary>
    public string? Context { get; private set; }

    /// <summary>When the activation used it; a step-up counts once.</summary>
    public DateTimeOffset? UsedAt { get; private set; }

    public Guid Version { get; private set; }

    public void Verified(string context, DateTimeOffset now)
    {
        if (VerifiedAt is not null || UsedAt is not null)
        {
            throw new DomainRuleException("This step-up was already verified.");
        }

        VerifiedAt = now;
        Context = context;
        Version = Guid.NewGuid();
    }

    public void Use(DateTimeOffset now)
    {
        if (UsedAt is not null)
        {
            throw new DomainRuleException("This verification was already used; verify again.");
        }

        UsedAt = now;
        Version = Guid.NewGuid();
    }
}
