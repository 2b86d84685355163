namespace PimPortal.Core.Domain;

/// <summary>
/// An alert: someone holds a managed role in the directory without the portal having granted it (assigned outside
/// the portal). Opened by the drift scan when first seen, kept while it is seen, resolved when it is gone.
/// </summary>
public sealed class DriftFinding
{
    private DriftFinding()
    {
    }

    public DriftFinding(Guid id, Guid principalId, Guid roleId, string scope, DateTimeOffset now)
    {
        Id = id;
        PrincipalId = principalId;
        RoleId = roleId;
        Scope = scope;
        FirstSeenAt = now;
        LastSeenAt = now;
    }

    public Guid Id { get; private set; }

    public Guid PrincipalId { get; private set; }

    public Guid RoleId { get; private set; }

    public string Scope { get; private set; } = "";

    public DateTimeOffset FirstSeenAt { get; private set; }

    public DateTimeOffset LastSeenAt { get; private set; }

    /// <summary>When the assignment was no longer there; null while it is.</summary>
    public DateTimeOffset? ResolvedAt { get; private set; }

    public bool IsOpen => ResolvedAt is null;

    public void SeenAgain(DateTimeOffset now) => LastSeenAt = now;

    /// <summary>How it was resolved (gone from the directory, or converted to an eligibility by an administrator).</summary>
    public string? Resolution { get; private set; }

    public void Resolve(DateTimeOffset now, string resolution = "gone from the directory")
    {
        if (ResolvedAt is null)
        {
            ResolvedAt = now;
            Resolution = resolution;
        }
    }
}
