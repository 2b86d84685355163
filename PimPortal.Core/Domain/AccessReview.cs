namespace PimPortal.Core.Domain;

/// <summary>Which assignments of the roles an access review covers.</summary>
public enum ReviewAssignments
{
    Eligible,
    Active,
    Both,
}

/// <summary>Who reviews each line.</summary>
public enum ReviewerKind
{
    /// <summary>The principals themselves (a group's line goes to the fallback reviewers).</summary>
    Self,

    /// <summary>The principal's manager; lines of principals without an enabled manager go to the fallback reviewers.</summary>
    Manager,

    /// <summary>The named users, or the members of the named groups: any of them decides any line.</summary>
    Named,
}

/// <summary>What happens to the lines nobody decided when an instance ends.</summary>
public enum ReviewDefaultDecision
{
    NoChange,
    Remove,
    Approve,
    Recommendation,
}

/// <summary>A reviewer's decision on one line (None: not reviewed).</summary>
public enum ReviewDecision
{
    None,
    Approve,
    Deny,
    DontKnow,
}

public enum ReviewInstanceStatus
{
    /// <summary>Open to reviewers.</summary>
    Active,

    /// <summary>Ended; the default decision taken; results not applied yet.</summary>
    Completed,

    /// <summary>Its denials are being applied.</summary>
    Applying,

    /// <summary>Its denials were applied.</summary>
    Applied,

    /// <summary>Its whole window passed while no portal instance ran: nothing was reviewed.</summary>
    Missed,
}

/// <summary>What a line reviews: an eligibility, or an active assignment.</summary>
public enum ReviewItemKind
{
    Eligible,
    Active,
}

/// <summary>What a reviewer should notice about a line.</summary>
[Flags]
public enum ReviewItemFlags
{
    None = 0,

    /// <summary>Eligible, and has never activated the role.</summary>
    NeverActivated = 1,

    /// <summary>The principal's account is disabled.</summary>
    Disabled = 2,

    /// <summary>The principal is a group: the decision covers all its members.</summary>
    Group = 4,
}

/// <summary>
/// A recurring review of the assignments of privileged roles: which roles and assignments, who reviews, when it runs
/// (<see cref="Schedule"/>) and what happens at the end. Each run is an <see cref="AccessReviewInstance"/>.
/// </summary>
public sealed class AccessReviewDefinition
{
    public const int MaxNameLength = 200;
    public const int MaxDescriptionLength = 2000;

    /// <summary>The default look-back for recommendations: a line not activated for this many days is recommended for removal.</summary>
    public const int DefaultInactiveDays = 90;

    private readonly List<AccessReviewRole> _roles = [];
    private readonly List<AccessReviewReviewer> _reviewers = [];

    private AccessReviewDefinition()
    {
    }

    public AccessReviewDefinition(
        Guid id, string name, string? description, ReviewAssignments assignments, int? onlyInactiveDays, int recommendationDays, ReviewerKind reviewerKind,
        ReviewSchedule schedule, AccessReviewSettings settings, IEnumerable<Guid> roleIds, IEnumerable<Guid> reviewerIds, Guid createdBy, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(settings);
        if (schedule.Problems() is { Count: > 0 } problems)
        {
            throw new DomainRuleException(string.Join(" ", problems));
        }

        Id = id;
        Name = name.Trim();
        Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        Assignments = assignments;
        OnlyInactiveDays = onlyInactiveDays;
        RecommendationDays = recommendationDays;
        ReviewerKind = reviewerKind;
        Start = schedule.Start;
        Frequency = schedule.Frequency;
        DurationDays = schedule.DurationDays;
        End = schedule.End;
        EndDate = schedule.EndDate;
        Runs = schedule.Runs;
        RequireReasonOnApprove = settings.RequireReasonOnApprove;
        DefaultDecision = settings.DefaultDecision;
        AutoApply = settings.AutoApply;
        Reminders = settings.Reminders;
        _roles.AddRange(roleIds.Distinct().Select(r => new AccessReviewRole(id, r)));
        _reviewers.AddRange(reviewerIds.Distinct().Select(r => new AccessReviewReviewer(id, r)));
        CreatedBy = createdBy;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string? Description { get; private set; }

    public ReviewAssignments Assignments { get; private set; }

    /// <summary>When set, only lines whose role was not activated for this many days are reviewed.</summary>
    public int? OnlyInactiveDays { get; private set; }

    /// <summary>Lines not activated within this many days before the instance starts are recommended for removal.</summary>
    public int RecommendationDays { get; private set; }

    public ReviewerKind ReviewerKind { get; private set; }

    public DateTimeOffset Start { get; private set; }

    public ReviewFrequency Frequency { get; private set; }

    public int DurationDays { get; private set; }

    public ReviewEnd End { get; private set; }

    public DateTimeOffset? EndDate { get; private set; }

    public int? Runs { get; private set; }

    public bool RequireReasonOnApprove { get; private set; }

    public ReviewDefaultDecision DefaultDecision { get; private set; }

    public bool AutoApply { get; private set; }

    public bool Reminders { get; private set; }

    public Guid CreatedBy { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the governance lead stopped it: no instance opens after that.</summary>
    public DateTimeOffset? StoppedAt { get; private set; }

    public Guid? StoppedBy { get; private set; }

    public IReadOnlyList<AccessReviewRole> Roles => _roles;

    /// <summary>The named reviewers (<see cref="ReviewerKind.Named"/>) or the fallback reviewers (the other kinds); users or groups.</summary>
    public IReadOnlyList<AccessReviewReviewer> Reviewers => _reviewers;

    public ReviewSchedule Schedule => new(Start, Frequency, DurationDays, End, EndDate, Runs);

    public AccessReviewSettings Settings => new(RequireReasonOnApprove, DefaultDecision, AutoApply, Reminders);

    public Guid Version { get; private set; } = Guid.NewGuid();

    public void Stop(Guid by, DateTimeOffset now)
    {
        if (StoppedAt is not null)
        {
            throw new DomainRuleException("This review was stopped already.");
        }

        StoppedAt = now;
        StoppedBy = by;
        Version = Guid.NewGuid();
    }
}

/// <summary>What a review does with decisions: <paramref name="Reminders"/> are sent to reviewers with lines left halfway through.</summary>
public sealed record AccessReviewSettings(bool RequireReasonOnApprove, ReviewDefaultDecision DefaultDecision, bool AutoApply, bool Reminders);

public sealed class AccessReviewRole
{
    private AccessReviewRole()
    {
    }

    public AccessReviewRole(Guid definitionId, Guid roleId)
    {
        DefinitionId = definitionId;
        RoleId = roleId;
    }

    public Guid DefinitionId { get; private set; }

    public Guid RoleId { get; private set; }
}

public sealed class AccessReviewReviewer
{
    private AccessReviewReviewer()
    {
    }

    public AccessReviewReviewer(Guid definitionId, Guid principalId)
    {
        DefinitionId = definitionId;
        PrincipalId = principalId;
    }

    public Guid DefinitionId { get; private set; }

    /// <summary>A user, or a group whose members review.</summary>
    public Guid PrincipalId { get; private set; }
}

/// <summary>
/// One run of a review (<see cref="Run"/> 0 for the first): the lines in scope when it opened, decided from
/// <see cref="StartsAt"/> until <see cref="EndsAt"/>. One per definition and run, whichever portal instance opens it.
/// </summary>
public sealed class AccessReviewInstance
{
    private AccessReviewInstance()
    {
    }

    public AccessReviewInstance(Guid id, Guid definitionId, int run, DateTimeOffset startsAt, DateTimeOffset endsAt, ReviewInstanceStatus status)
    {
        Id = id;
        DefinitionId = definitionId;
        Run = run;
        StartsAt = startsAt;
        EndsAt = endsAt;
        Status = status;
    }

    public Guid Id { get; private set; }

    public Guid DefinitionId { get; private set; }

    public AccessReviewDefinition Definition { get; private set; } = null!;

    public int Run { get; private set; }

    public DateTimeOffset StartsAt { get; private set; }

    public DateTimeOffset EndsAt { get; private set; }

    public ReviewInstanceStatus Status { get; private set; }

    public int ItemCount { get; private set; }

    /// <summary>When the reminder went to reviewers with lines left.</summary>
    public DateTimeOffset? ReminderSentAt { get; private set; }

    public DateTimeOffset? CompletedAt { get; private set; }

    public DateTimeOffset? AppliedAt { get; private set; }

    /// <summary>Who applied the results (null: the portal, automatically).</summary>
    public Guid? AppliedBy { get; private set; }

    /// <summary>When the reminder is due: halfway through.</summary>
    public DateTimeOffset ReminderDueAt => StartsAt + ((EndsAt - StartsAt) / 2);

    /// <summary>Changes with every change: two portal instances cannot both remind, complete or apply it.</summary>
    public Guid Version { get; private set; } = Guid.NewGuid();

    public bool IsOpenAt(DateTimeOffset now) => Status == ReviewInstanceStatus.Active && now < EndsAt;

    public void Opened(int items)
    {
        ItemCount = items;
        Touch();
    }

    public void Reminded(DateTimeOffset now)
    {
        if (ReminderSentAt is not null)
        {
            throw new DomainRuleException("The reminder was sent already.");
        }

        ReminderSentAt = now;
        Touch();
    }

    /// <summary>Closes it to reviewers at its end (or when ended early).</summary>
    public void Complete(DateTimeOffset now)
    {
        if (Status != ReviewInstanceStatus.Active)
        {
            throw new DomainRuleException("This review is not open.");
        }

        Status = ReviewInstanceStatus.Completed;
        CompletedAt = now;
        Touch();
    }

    public void BeginApplying()
    {
        if (Status is not (ReviewInstanceStatus.Completed or ReviewInstanceStatus.Applying))
        {
            throw new DomainRuleException(Status == ReviewInstanceStatus.Applied ? "The results were applied already." : "The results can be applied once the review has ended.");
        }

        Status = ReviewInstanceStatus.Applying;
        Touch();
    }

    public void MarkApplied(DateTimeOffset now, Guid? by)
    {
        Status = ReviewInstanceStatus.Applied;
        AppliedAt = now;
        AppliedBy = by;
        Touch();
    }

    private void Touch() => Version = Guid.NewGuid();
}

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

    public void Applied(string outcome, DateTimeOffset now)
    {
        Outcome = outcome;
        AppliedAt ??= now;
    }
}
