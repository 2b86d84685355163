namespace PimPortal.Core.Domain;

/// <summary>
/// The intent to remove one standing assignment — access someone holds in the directory that the portal did not grant —
/// after a PIM administrator made them eligible instead (the rollout, or an "assigned outside the portal" alert). It is
/// recorded in the same transaction as the eligibility; the outbox then removes the assignment, with retries, and
/// records how it went here. Its id is the removal's idempotency key.
/// </summary>
public sealed class StandingRemoval
{
    public const int MaxErrorLength = 2000;

    private StandingRemoval()
    {
    }

    public StandingRemoval(
        Guid id, StandingRemovalSource source, Guid principalId, Guid roleId, string scope, DateTimeOffset since, Guid eligibilityId, Guid? findingId,
        string? justification, Guid requestedBy, string requestedByName, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        Id = id;
        Source = source;
        PrincipalId = principalId;
        RoleId = roleId;
        Scope = scope;
        Since = since;
        EligibilityId = eligibilityId;
        FindingId = findingId;
        Justification = justification;
        RequestedBy = requestedBy;
        RequestedByName = requestedByName;
        RequestedAt = now;
        Status = StandingRemovalStatus.Pending;
    }

    public Guid Id { get; private set; }

    public StandingRemovalSource Source { get; private set; }

    public Guid PrincipalId { get; private set; }

    public Guid RoleId { get; private set; }

    public string Scope { get; private set; } = "";

    /// <summary>Since when the directory has had the assignment, as far as the portal knows.</summary>
    public DateTimeOffset Since { get; private set; }

    /// <summary>The eligibility that replaces the standing access.</summary>
    public Guid EligibilityId { get; private set; }

    /// <summary>The "assigned outside the portal" alert it resolves once removed, if one was open.</summary>
    public Guid? FindingId { get; private set; }

    public string? Justification { get; private set; }

    /// <summary>The administrator who asked for it: the removal is audited in their name, whenever it happens.</summary>
    public Guid RequestedBy { get; private set; }

    public string RequestedByName { get; private set; } = "";

    public DateTimeOffset RequestedAt { get; private set; }

    public StandingRemovalStatus Status { get; private set; }

    /// <summary>When the directory confirmed the assignment gone, or the outbox gave up.</summary>
    public DateTimeOffset? CompletedAt { get; private set; }

    /// <summary>Why the outbox gave up, in the directory's words.</summary>
    public string? Error { get; private set; }

    /// <summary>The directory confirmed the assignment gone: Pending → Removed.</summary>
    public void Removed(DateTimeOffset now)
    {
        RequirePending();
        Status = StandingRemovalStatus.Removed;
        CompletedAt = now;
        Error = null;
    }

    /// <summary>The directory refused the removal for good, or every attempt failed: Pending → Failed.</summary>
    public void Failed(string error, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        RequirePending();
        Status = StandingRemovalStatus.Failed;
        CompletedAt = now;
        Error = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
    }

    private void RequirePending()
    {
        if (Status != StandingRemovalStatus.Pending)
        {
            throw new DomainRuleException($"This standing removal is {Status.ToString().ToLowerInvariant()} already.");
        }
    }
}

/// <summary>Where a standing removal comes from.</summary>
public enum StandingRemovalSource
{
    /// <summary>The rollout: standing assignments imported from the directory and converted to eligible.</summary>
    Rollout,

    /// <summary>An "assigned outside the portal" alert turned into an eligibility ("Make eligible instead").</summary>
    Drift,
}

/// <summary>Where a standing removal is in its life.</summary>
public enum StandingRemovalStatus
{
    /// <summary>Recorded; the outbox is removing the assignment (retrying after a failure).</summary>
    Pending,

    /// <summary>The directory confirmed the assignment gone; final.</summary>
    Removed,

    /// <summary>The directory refused for good, or every attempt failed; the assignment is still there; final.</summary>
    Failed,
}
