using System.Linq.Expressions;

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

    /// <summary>
    /// A current eligibility: not removed, and not ended at the moment (it may start later). The one definition:
    /// queries filter with <c>Current.At(now)</c>, code asks <see cref="IsCurrentAt"/>. Whether it may be used now (its
    /// holder enabled and still in its group, its window begun) is decided in Policy/EligibilityUse.cs.
    /// </summary>
    public static readonly Rule<RoleEligibility, DateTimeOffset> Current =
        new((e, now) => e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now));

    /// <summary>Whether it still counts at <paramref name="now"/> (<see cref="Current"/>).</summary>
    public bool IsCurrentAt(DateTimeOffset now) => Current.Holds(this, now);

    /// <summary>Whether it is inside its window at <paramref name="at"/>: current and begun (who may use it is Policy/EligibilityUse.cs's question).</summary>
    public bool IsValidAt(DateTimeOffset at) => IsCurrentAt(at) && HasStartedBy(at);

    /// <summary>Whether its window has begun at <paramref name="at"/>.</summary>
    public bool HasStartedBy(DateTimeOffset at) => NotBefore <= at;

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

    /// <summary>
    /// Which eligibilities may be removed: those not removed already. The one definition: <see cref="Remove"/> asks it
    /// of one, and the set-based removal (Lifecycle/EligibilityRemoval.cs) filters many with it.
    /// </summary>
    public static readonly Expression<Func<RoleEligibility, bool>> Removable = e => e.RemovedAt == null;

    private static readonly Func<RoleEligibility, bool> RemovableNow = Removable.Compile();

    /// <summary>What a removal writes — when, by whom, a new version — for one row or for many at once.</summary>
    public static (DateTimeOffset RemovedAt, Guid? RemovedBy, Guid Version) Removal(DateTimeOffset now, Guid? by) => (now, by, Guid.NewGuid());

    /// <summary>Refuses to remove an eligibility that is not <see cref="Removable"/>.</summary>
    public void CheckRemovable()
    {
        if (!RemovableNow(this))
        {
            throw new DomainRuleException("This eligibility was already removed.");
        }
    }

    public void Remove(DateTimeOffset now, Guid? by = null)
    {
        CheckRemovable();
        (RemovedAt, RemovedBy, Version) = Removal(now, by);
    }
}
