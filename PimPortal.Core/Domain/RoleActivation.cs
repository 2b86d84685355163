using System.Linq.Expressions;

namespace PimPortal.Core.Domain;

/// <summary>
/// The grant: a principal holds a role at a scope from <see cref="NotBefore"/> until <see cref="NotAfter"/>. It is
/// written to the directory by the outbox worker (Provisioning → Active) and taken away when it ends.
/// </summary>
public sealed class RoleActivation
{
    private RoleActivation()
    {
    }

    /// <summary>
    /// The grant of an approved request, from <paramref name="now"/> for the request's duration — cut at
    /// <paramref name="endAtLatest"/> (the eligibility's end) when that comes first.
    /// </summary>
    public RoleActivation(Guid id, ActivationRequest request, DateTimeOffset now, DateTimeOffset? endAtLatest = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Status != ActivationRequestStatus.Approved || request.Kind != ActivationRequestKind.Activate)
        {
            throw new DomainRuleException("Only an approved activation request produces a grant.");
        }

        Id = id;
        RequestId = request.Id;
        EligibilityId = request.EligibilityId;
        PrincipalId = request.RequesterId;
        RoleId = request.RoleId;
        Scope = request.Scope;
        Status = ActivationStatus.Provisioning;
        if (endAtLatest is { } latest && latest <= now)
        {
            throw new DomainRuleException("The eligibility has ended, so nothing can be granted from it.");
        }

        NotBefore = now;
        NotAfter = endAtLatest is { } cap && cap < now + request.Duration ? cap : now + request.Duration;
        CreatedAt = now;
        Version = Guid.NewGuid();
        request.Produced(this);
    }

    /// <summary>The end of a permanent active assignment (the directory is written "no expiration").</summary>
    public static readonly DateTimeOffset PermanentEnd = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// An active assignment an administrator makes (no request, no eligibility): from <paramref name="now"/> until
    /// <paramref name="notAfter"/>, or permanent when that is null.
    /// </summary>
    public static RoleActivation Assigned(Guid id, Guid principalId, Guid roleId, string scope, DateTimeOffset? notAfter, Guid assignedBy, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        if (notAfter is { } end && end <= now)
        {
            throw new DomainRuleException("An active assignment must end in the future.");
        }

        return new RoleActivation
        {
            Id = id,
            PrincipalId = principalId,
            RoleId = roleId,
            Scope = scope,
            Status = ActivationStatus.Provisioning,
            NotBefore = now,
            NotAfter = notAfter?.ToUniversalTime() ?? PermanentEnd,
            CreatedAt = now,
            AssignedBy = assignedBy,
            Version = Guid.NewGuid(),
        };
    }

    public Guid Id { get; private set; }

    /// <summary>The request it was granted from; null for an active assignment made by an administrator.</summary>
    public Guid? RequestId { get; private set; }

    /// <summary>The eligibility it was activated from; null for an active assignment made by an administrator.</summary>
    public Guid? EligibilityId { get; private set; }

    /// <summary>The administrator who assigned it active; null for an activation.</summary>
    public Guid? AssignedBy { get; private set; }

    /// <summary>An active assignment made by an administrator rather than an activation by its holder.</summary>
    public bool IsAssignment => AssignedBy is not null;

    /// <summary>A permanent active assignment (standing access where the role's rules allow it).</summary>
    public bool IsPermanent => NotAfter == PermanentEnd;

    public Guid PrincipalId { get; private set; }

    public Guid RoleId { get; private set; }

    public PrivilegedRole Role { get; private set; } = null!;

    public string Scope { get; private set; } = "";

    public ActivationStatus Status { get; private set; }

    public DateTimeOffset NotBefore { get; private set; }

    public DateTimeOffset NotAfter { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the directory confirmed the assignment exists.</summary>
    public DateTimeOffset? ConfirmedAt { get; private set; }

    /// <summary>When the grant stopped counting (deactivated, expired, revoked or failed).</summary>
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>Who ended it early; null when it expired, failed, or the portal itself revoked it.</summary>
    public Guid? EndedBy { get; private set; }

    /// <summary>When the directory confirmed the assignment is gone.</summary>
    public DateTimeOffset? RemovedFromDirectoryAt { get; private set; }

    /// <summary>Why provisioning failed, as the directory said it.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Changes on every transition, so two workers or two clicks cannot both make the same one.</summary>
    public Guid Version { get; private set; }

    /// <summary>
    /// An open grant — Provisioning or Active: the principal holds, or is about to hold, the role. The one definition:
    /// queries filter with it (<c>db.Activations.Where(RoleActivation.Open)</c>), code asks <see cref="IsOpen"/>, and
    /// raw SQL and index filters list <see cref="OpenStatuses"/> — both read off this expression.
    /// </summary>
    public static readonly Expression<Func<RoleActivation, bool>> Open =
        a => a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active;

    private static readonly Func<RoleActivation, bool> OpenNow = Open.Compile();

    /// <summary>The statuses of an open grant, for SQL written by hand (the lines of a review, the unique index's filter).</summary>
    public static readonly IReadOnlyList<ActivationStatus> OpenStatuses =
        [.. Enum.GetValues<ActivationStatus>().Where(status => OpenNow(new RoleActivation { Status = status }))];

    /// <summary>Whether this grant is open (<see cref="Open"/>).</summary>
    public bool IsOpen => OpenNow(this);

    /// <summary>The directory confirmed the assignment: Provisioning → Active.</summary>
    public void ConfirmProvisioned(DateTimeOffset now)
    {
        Require(ActivationStatus.Provisioning, "confirmed");
        Status = ActivationStatus.Active;
        ConfirmedAt = now;
        Touch();
    }

    /// <summary>The directory refused the assignment for good: Provisioning → Failed.</summary>
    public void FailProvisioning(string reason, DateTimeOffset now)
    {
        Require(ActivationStatus.Provisioning, "failed");
        Status = ActivationStatus.Failed;
        FailureReason = reason;
        EndedAt = now;
        Touch();
    }

    /// <summary>The holder ends it early.</summary>
    public void Deactivate(Guid by, DateTimeOffset now)
    {
        if (by != PrincipalId)
        {
            throw new DomainRuleException("Only the holder can deactivate an activation.");
        }

        if (IsAssignment)
        {
            throw new DomainRuleException("An active assignment made by an administrator is removed by a PIM administrator, not deactivated.");
        }

        End(ActivationStatus.Deactivated, by, now);
    }

    /// <summary>Its time is up: the expiry worker ends it.</summary>
    public void Expire(DateTimeOffset now)
    {
        if (now < NotAfter)
        {
            throw new DomainRuleException("An activation cannot expire before its end.");
        }

        End(ActivationStatus.Expired, null, now);
    }

    /// <summary>
    /// Someone other than the holder ends it early: an administrator or a review (<paramref name="by"/>), or the portal
    /// itself (null) when the account is disabled or the eligibility is gone.
    /// </summary>
    public void Revoke(Guid? by, DateTimeOffset now) => End(ActivationStatus.Revoked, by, now);

    /// <summary>Moves the end later; an open activation only, and never earlier than it is now.</summary>
    public void Extend(DateTimeOffset newNotAfter, DateTimeOffset now)
    {
        if (IsPermanent)
        {
            throw new DomainRuleException("A permanent assignment cannot be extended.");
        }

        if (!IsOpen)
        {
            throw new DomainRuleException($"An activation that is {Status.ToString().ToLowerInvariant()} cannot be extended.");
        }

        if (now >= NotAfter)
        {
            throw new DomainRuleException("This activation has already reached its end.");
        }

        if (newNotAfter <= NotAfter)
        {
            throw new DomainRuleException("An extension must end later than the activation ends now.");
        }

        NotAfter = newNotAfter;
        Touch();
    }

    /// <summary>The directory confirmed the assignment is gone.</summary>
    public void MarkRemovedFromDirectory(DateTimeOffset now)
    {
        if (IsOpen)
        {
            throw new DomainRuleException("An open activation is not removed from the directory.");
        }

        RemovedFromDirectoryAt = now;
        Touch();
    }

    private void End(ActivationStatus status, Guid? by, DateTimeOffset now)
    {
        if (!IsOpen)
        {
            throw new DomainRuleException($"This activation is already {Status.ToString().ToLowerInvariant()}.");
        }

        Status = status;
        EndedAt = now;
        EndedBy = by;
        Touch();
    }

    private void Require(ActivationStatus expected, string verb)
    {
        if (Status != expected)
        {
            throw new DomainRuleException($"An activation that is {Status.ToString().ToLowerInvariant()} cannot be {verb}.");
        }
    }

    private void Touch() => Version = Guid.NewGuid();
}

/// <summary>Where a grant is in its life.</summary>
public enum ActivationStatus
{
    /// <summary>Granted by the portal; the outbox worker is writing it to the directory.</summary>
    Provisioning,

    /// <summary>The directory confirmed the assignment; the principal holds the role until NotAfter.</summary>
    Active,

    /// <summary>Ended by its holder before NotAfter; the assignment is being or has been removed.</summary>
    Deactivated,

    /// <summary>Reached NotAfter and was ended by the expiry worker.</summary>
    Expired,

    /// <summary>Ended early by someone other than the holder.</summary>
    Revoked,

    /// <summary>The directory refused the assignment; the principal never held the role.</summary>
    Failed,
}
