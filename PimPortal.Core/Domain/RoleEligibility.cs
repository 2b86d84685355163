namespace PimPortal.Core.Domain;

/// <summary>
/// The right of a principal to activate a role at a scope, from <see cref="NotBefore"/> until <see cref="NotAfter"/>
/// (null: permanent). Eligibility is not access: nothing is granted until an activation is made from it.
/// </summary>
public sealed class RoleEligibility
{
    private RoleEligibility()
    {
    }

    public RoleEligibility(Guid id, Guid principalId, Guid roleId, string scope, DateTimeOffset notBefore, DateTimeOffset? notAfter, Guid createdBy, DateTimeOffset createdAt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scope);
        if (notAfter is { } end && end <= notBefore)
        {
            throw new DomainRuleException("An eligibility must end after it starts.");
        }

        Id = id;
        PrincipalId = principalId;
        RoleId = roleId;
        Scope = scope;

        // Stored in UTC whatever offset the administrator's browser gave: every comparison with "now" is in UTC.
        NotBefore = notBefore.ToUniversalTime();
        NotAfter = notAfter?.ToUniversalTime();
        CreatedBy = createdBy;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public Guid PrincipalId { get; private set; }

    public Guid RoleId { get; private set; }

    public PrivilegedRole Role { get; private set; } = null!;

    public string Scope { get; private set; } = "";

    public DateTimeOffset NotBefore { get; private set; }

    /// <summary>When the eligibility ends; null when it is permanent.</summary>
    public DateTimeOffset? NotAfter { get; private set; }

    public Guid CreatedBy { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Set when the eligibility was removed before its end; a removed eligibility is never valid again.</summary>
    public DateTimeOffset? RemovedAt { get; private set; }

    public bool IsPermanent => NotAfter is null;

    /// <summary>Whether activation may start from this eligibility at <paramref name="now"/>.</summary>
    public bool IsValidAt(DateTimeOffset now) =>
        RemovedAt is null && NotBefore <= now && (NotAfter is null || now < NotAfter);

    /// <summary>Whether it still counts at <paramref name="now"/>: not removed and not ended (it may start later).</summary>
    public bool IsCurrentAt(DateTimeOffset now) => RemovedAt is null && (NotAfter is null || now < NotAfter);

    /// <summary>When the principal was told the eligibility ends soon; cleared when it is extended.</summary>
    public DateTimeOffset? EndingNoticeSentAt { get; private set; }

    /// <summary>When its end was recorded (audited) after it passed.</summary>
    public DateTimeOffset? EndRecordedAt { get; private set; }

    /// <summary>Who removed it, when it was removed.</summary>
    public Guid? RemovedBy { get; private set; }

    /// <summary>Moves the end later (or makes it permanent with null); an ended or removed eligibility is renewed instead.</summary>
    public void ExtendTo(DateTimeOffset? newEnd, DateTimeOffset now)
    {
        if (RemovedAt is not null)
        {
            throw new DomainRuleException("A removed eligibility cannot be extended; assign a new one.");
        }

        if (NotAfter is { } end && end <= now)
        {
            throw new DomainRuleException("This eligibility has ended; renew it instead.");
        }

        if (NotAfter is null)
        {
            throw new DomainRuleException("This eligibility is permanent already.");
        }

        if (newEnd is { } later && later <= NotAfter)
        {
            throw new DomainRuleException($"An extension must end after the current end ({NotAfter:yyyy-MM-dd HH:mm} UTC).");
        }

        NotAfter = newEnd?.ToUniversalTime();
        EndingNoticeSentAt = null;
        Touch();
    }

    public void NoticeSent(DateTimeOffset now)
    {
        EndingNoticeSentAt ??= now;
        Touch();
    }

    public void EndRecorded(DateTimeOffset now)
    {
        EndRecordedAt ??= now;
        Touch();
    }

    /// <summary>Changes with every change, so two administrators (or two workers) cannot both change it unseen.</summary>
    public Guid Version { get; private set; } = Guid.NewGuid();

    private void Touch() => Version = Guid.NewGuid();

    public void Remove(DateTimeOffset now, Guid? by = null)
    {
        if (RemovedAt is not null)
        {
            throw new DomainRuleException("This eligibility was already removed.");
        }

        RemovedAt = now;
        RemovedBy = by;
        Touch();
    }
}
