namespace PimPortal.Core.Domain;

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

    /// <summary>Who asked for the results to be applied (null: the portal, automatically); the removals are made in their name.</summary>
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

    /// <summary>
    /// A governance lead asks for the closed instance's results to be applied: Completed → Applying, in
    /// <paramref name="by"/>'s name; the review worker then applies them. Refused while they are being applied.
    /// </summary>
    public void RequestApplying(Guid by)
    {
        if (Status == ReviewInstanceStatus.Applying)
        {
            throw new DomainRuleException("These results are being applied already.");
        }

        BeginApplying(by);
    }

    /// <summary>
    /// Completed → Applying (or stays Applying: an application cut short resumes). <paramref name="requestedBy"/>: who
    /// asked (null: the portal, for a review that applies itself).
    /// </summary>
    public void BeginApplying(Guid? requestedBy = null)
    {
        if (Status is not (ReviewInstanceStatus.Completed or ReviewInstanceStatus.Applying))
        {
            throw new DomainRuleException(Status == ReviewInstanceStatus.Applied ? "The results were applied already." : "The results can be applied once the review has ended.");
        }

        if (Status == ReviewInstanceStatus.Completed)
        {
            AppliedBy = requestedBy;
        }

        Status = ReviewInstanceStatus.Applying;
        Touch();
    }

    /// <summary>Every denied line has been applied: Applying → Applied.</summary>
    public void MarkApplied(DateTimeOffset now)
    {
        if (Status != ReviewInstanceStatus.Applying)
        {
            throw new DomainRuleException("Only results being applied can be marked applied.");
        }

        Status = ReviewInstanceStatus.Applied;
        AppliedAt = now;
        Touch();
    }

    private void Touch() => Version = Guid.NewGuid();
}
