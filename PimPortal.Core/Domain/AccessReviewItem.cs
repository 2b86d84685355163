namespace PimPortal.Core.Domain;

/// <summary>
/// One line of an instance: a principal's eligibility for (or active assignment of) a role, with what the reviewer
/// needs to decide — the last activation, the activations in the look-back window, the recommendation and its reason —
/// and the decision, who made it, why, and what applying it did.
/// </summary>
public sealed class AccessReviewItem
{
    public const int MaxReasonLength = 1000;

    private AccessReviewItem()
    {
    }

    public long Id { get; private set; }

    public Guid InstanceId { get; private set; }

    public ReviewItemKind Kind { get; private set; }

    public Guid PrincipalId { get; private set; }

    public string PrincipalName { get; private set; } = "";

    public Guid RoleId { get; private set; }

    public string RoleName { get; private set; } = "";

    public string Scope { get; private set; } = "";

    public Guid? EligibilityId { get; private set; }

    public Guid? ActivationId { get; private set; }

    /// <summary>Who decides: this user, or (null) the definition's named or fallback reviewers.</summary>
    public Guid? ReviewerId { get; private set; }

    public DateTimeOffset? LastActivation { get; private set; }

    /// <summary>Activations in the recommendation window before the instance opened.</summary>
    public int ActivationCount { get; private set; }

    public ReviewDecision Recommendation { get; private set; }

    public string? RecommendationReason { get; private set; }

    public ReviewItemFlags Flags { get; private set; }

    public ReviewDecision Decision { get; private set; }

    public Guid? DecidedBy { get; private set; }

    /// <summary>Who decided, or "(default)" when the instance's end decided.</summary>
    public string? DecidedByName { get; private set; }

    public DateTimeOffset? DecidedAt { get; private set; }

    public string? Reason { get; private set; }

    public DateTimeOffset? AppliedAt { get; private set; }

    /// <summary>What applying a denial did, in words (removed, or already gone by then).</summary>
    public string? Outcome { get; private set; }

    /// <summary>A reviewer's decision; a later one replaces it while the instance is open.</summary>
    public void Decide(ReviewDecision decision, Guid by, string byName, string? reason, DateTimeOffset now)
    {
        if (decision == ReviewDecision.None)
        {
            throw new DomainRuleException("Choose Approve, Deny or Don't know.");
        }

        if (AppliedAt is not null)
        {
            throw new DomainRuleException("This line was applied already.");
        }

        Decision = decision;
        DecidedBy = by;
        DecidedByName = byName;
        Reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        DecidedAt = now;
    }
}
