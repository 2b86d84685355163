namespace PimPortal.Core.Domain;

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

    /// <summary>The furthest back "inactive for" and the recommendations may look, in days.</summary>
    public const int MaxLookBackDays = 730;

    /// <summary>The most roles one review covers.</summary>
    public const int MaxRoles = 100;

    /// <summary>The most named (or fallback) reviewers, users or groups.</summary>
    public const int MaxReviewers = 50;

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
