using System.Linq.Expressions;

namespace PimPortal.Core.Domain;

/// <summary>
/// A principal's request to activate (or extend) a role from an eligibility. A request is decided — by the policy
/// itself when the role needs no approval, or by approvers — and an approved request produces a
/// <see cref="RoleActivation"/>, the grant.
/// </summary>
public sealed class ActivationRequest
{
    /// <summary>The longest justification accepted.</summary>
    public const int MaxJustificationLength = 500;

    /// <summary>The longest ticket number or ticket system accepted.</summary>
    public const int MaxTicketLength = 100;

    /// <summary>The longest reason kept for a lapsed request.</summary>
    public const int MaxClosedReasonLength = 300;

    private readonly List<ApprovalDecision> _decisions = [];

    private ActivationRequest()
    {
    }

    private ActivationRequest(
        Guid id, ActivationRequestKind kind, RoleEligibility eligibility, Guid requesterId, TimeSpan duration,
        RequestDetails details, DateTimeOffset now, DateTimeOffset? mfaVerifiedAt, Guid? targetActivationId, DateTimeOffset? start, IReadOnlyCollection<Guid>? requesterGroups)
    {
        // One's own eligibility, or that of a group one is a member of (the groups as the directory says now).
        if (eligibility.PrincipalId != requesterId && requesterGroups?.Contains(eligibility.PrincipalId) != true)
        {
            throw new DomainRuleException("A request can only be made from one's own eligibility or that of one's group.");
        }

        if (duration <= TimeSpan.Zero)
        {
            throw new DomainRuleException("The duration must be positive.");
        }

        if (start is { } at && kind == ActivationRequestKind.Extend && at != now)
        {
            throw new DomainRuleException("An extension starts when it is decided; it cannot be scheduled.");
        }

        Id = id;
        Kind = kind;
        RequesterId = requesterId;
        RoleId = eligibility.RoleId;
        EligibilityId = eligibility.Id;
        Scope = eligibility.Scope;
        Justification = details.Justification;
        TicketNumber = details.TicketNumber;
        TicketSystem = details.TicketSystem;
        RequestedStart = Starts.Effective(start, now).ToUniversalTime();
        Duration = duration;
        CreatedAt = now;
        MfaVerifiedAt = mfaVerifiedAt;
        TargetActivationId = targetActivationId;
        Version = Guid.NewGuid();
    }

    public Guid Id { get; private set; }

    public ActivationRequestKind Kind { get; private set; }

    public Guid RequesterId { get; private set; }

    public Guid RoleId { get; private set; }

    public PrivilegedRole Role { get; private set; } = null!;

    public Guid EligibilityId { get; private set; }

    public string Scope { get; private set; } = "";

    public string? Justification { get; private set; }

    public string? TicketNumber { get; private set; }

    public string? TicketSystem { get; private set; }

    /// <summary>When the grant should begin: the moment of the request, or a scheduled time after it (kept in UTC).</summary>
    public DateTimeOffset RequestedStart { get; private set; }

    public TimeSpan Duration { get; private set; }

    public ActivationRequestStatus Status { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When a pending request stops waiting for a decision; null once decided.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    public DateTimeOffset? DecidedAt { get; private set; }

    /// <summary>Distinct approvals needed, fixed when the request was made.</summary>
    public int ApprovalsNeeded { get; private set; }

    /// <summary>When the requester last proved MFA before asking; null when the role did not require it.</summary>
    public DateTimeOffset? MfaVerifiedAt { get; private set; }

    /// <summary>Whether the requester chose a start after the moment of asking.</summary>
    public bool IsScheduled => RequestedStart > CreatedAt;

    /// <summary>For an extension: the activation it extends.</summary>
    public Guid? TargetActivationId { get; private set; }

    /// <summary>The grant this request produced, once approved.</summary>
    public Guid? ActivationId { get; private set; }

    /// <summary>Why a request ended without a grant (it lapsed), in words for the requester.</summary>
    public string? ClosedReason { get; private set; }

    /// <summary>Changes on every transition; a concurrent second transition fails instead of counting twice.</summary>
    public Guid Version { get; private set; }

    public IReadOnlyList<ApprovalDecision> Decisions => _decisions;

    /// <summary>
    /// A waiting request — Pending (for approvers) or Scheduled (approved, for its start): it may still produce a grant.
    /// The one definition for queries; the unique index's filter lists <see cref="WaitingStatuses"/>.
    /// </summary>
    public static readonly Expression<Func<ActivationRequest, bool>> Waiting =
        r => r.Status == ActivationRequestStatus.Pending || r.Status == ActivationRequestStatus.Scheduled;

    private static readonly Func<ActivationRequest, bool> WaitingNow = Waiting.Compile();

    /// <summary>The statuses of a waiting request, for SQL written by hand.</summary>
    public static readonly IReadOnlyList<ActivationRequestStatus> WaitingStatuses =
        [.. Enum.GetValues<ActivationRequestStatus>().Where(status => WaitingNow(new ActivationRequest { Status = status }))];

    /// <summary>Whether the request still waits (<see cref="Waiting"/>).</summary>
    public bool IsWaiting => WaitingNow(this);

    /// <summary>A request the policy allowed outright: approved at once, by nobody.</summary>
    public static ActivationRequest ApprovedByPolicy(
        Guid id, ActivationRequestKind kind, RoleEligibility eligibility, Guid requesterId, TimeSpan duration,
        RequestDetails details, DateTimeOffset now, DateTimeOffset? mfaVerifiedAt, Guid? targetActivationId = null, DateTimeOffset? start = null,
        IReadOnlyCollection<Guid>? requesterGroups = null)
    {
        var request = new ActivationRequest(id, kind, eligibility, requesterId, duration, details, now, mfaVerifiedAt, targetActivationId, start, requesterGroups)
        {
            DecidedAt = now,
            ApprovalsNeeded = 0,
        };
        request.Status = request.RequestedStart > now ? ActivationRequestStatus.Scheduled : ActivationRequestStatus.Approved;
        return request;
    }

    /// <summary>A request that waits for <paramref name="approvalsNeeded"/> approvals until <paramref name="timeout"/> passes.</summary>
    public static ActivationRequest AwaitingApproval(
        Guid id, ActivationRequestKind kind, RoleEligibility eligibility, Guid requesterId, TimeSpan duration,
        RequestDetails details, DateTimeOffset now, DateTimeOffset? mfaVerifiedAt, int approvalsNeeded, TimeSpan timeout,
        Guid? targetActivationId = null, DateTimeOffset? start = null, IReadOnlyCollection<Guid>? requesterGroups = null)
    {
        if (approvalsNeeded < 1)
        {
            throw new DomainRuleException("A request awaiting approval needs at least one approval.");
        }

        return new ActivationRequest(id, kind, eligibility, requesterId, duration, details, now, mfaVerifiedAt, targetActivationId, start, requesterGroups)
        {
            Status = ActivationRequestStatus.Pending,
            ApprovalsNeeded = approvalsNeeded,
            ExpiresAt = now + timeout,
        };
    }

    /// <summary>
    /// Records one approver's verdict. Nobody decides their own request, an approver counts once, and any deny ends
    /// the request. Returns true when this decision approved the request: it is then Approved, or Scheduled when its
    /// requested start is still ahead. Whether the approver may decide at all is the caller's check.
    /// </summary>
    public bool Decide(Guid approverId, ApprovalVerdict verdict, string? reason, DateTimeOffset now)
    {
        RequireStatus(ActivationRequestStatus.Pending, "decided");
        if (SeparationOfDuties.IsOwn(approverId, [], RequesterId))
        {
            throw new DomainRuleException("Nobody can approve or deny their own request.");
        }

        if (_decisions.Exists(d => d.ApproverId == approverId))
        {
            throw new DomainRuleException("You have already decided on this request.");
        }

        if (verdict == ApprovalVerdict.Deny && string.IsNullOrWhiteSpace(reason))
        {
            throw new DomainRuleException("A reason is required to deny a request.");
        }

        if (ExpiresAt is { } expires && now >= expires)
        {
            throw new DomainRuleException("This request has expired.");
        }

        _decisions.Add(new ApprovalDecision(Guid.NewGuid(), Id, approverId, verdict, reason?.Trim(), now));
        Version = Guid.NewGuid();
        if (verdict == ApprovalVerdict.Deny)
        {
            Close(ActivationRequestStatus.Denied, now);
            return false;
        }

        if (_decisions.Count(d => d.Verdict == ApprovalVerdict.Approve) >= ApprovalsNeeded)
        {
            Close(RequestedStart > now ? ActivationRequestStatus.Scheduled : ActivationRequestStatus.Approved, now);
            return true;
        }

        return false;
    }

    public void Cancel(Guid by, DateTimeOffset now)
    {
        if (by != RequesterId)
        {
            throw new DomainRuleException("Only the requester can cancel a request.");
        }

        if (!IsWaiting)
        {
            RequireStatus(ActivationRequestStatus.Pending, "cancelled");
        }

        Close(ActivationRequestStatus.Cancelled, now);
    }

    /// <summary>A scheduled request reached its start: Scheduled → Approved, ready to produce its grant.</summary>
    public void Start(DateTimeOffset now)
    {
        RequireStatus(ActivationRequestStatus.Scheduled, "started");
        if (now < RequestedStart)
        {
            throw new DomainRuleException("This request has not reached its start.");
        }

        Status = ActivationRequestStatus.Approved;
        Version = Guid.NewGuid();
    }

    /// <summary>
    /// A pending, approved or scheduled request that can no longer be carried out — the eligibility was removed or
    /// ended, the account was disabled, the activation to extend ended — ends without a grant, saying why.
    /// </summary>
    public void Lapse(string reason, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (Status is not (ActivationRequestStatus.Pending or ActivationRequestStatus.Approved or ActivationRequestStatus.Scheduled) || ActivationId is not null)
        {
            throw new DomainRuleException($"A request that is {Status.ToString().ToLowerInvariant()} cannot lapse.");
        }

        Status = ActivationRequestStatus.Lapsed;
        ClosedReason = reason.Length > MaxClosedReasonLength ? reason[..MaxClosedReasonLength] : reason;
        DecidedAt ??= now;
        ExpiresAt = null;
        Version = Guid.NewGuid();
    }

    public void Expire(DateTimeOffset now)
    {
        RequireStatus(ActivationRequestStatus.Pending, "expired");
        if (ExpiresAt is not { } expires || now < expires)
        {
            throw new DomainRuleException("This request has not reached its expiry.");
        }

        Close(ActivationRequestStatus.Expired, now);
    }

    /// <summary>Links the approved request to the grant it produced.</summary>
    public void Produced(RoleActivation activation)
    {
        RequireStatus(ActivationRequestStatus.Approved, "linked to a grant");
        if (ActivationId is not null && ActivationId != activation.Id)
        {
            throw new DomainRuleException("This request already produced a grant.");
        }

        ActivationId = activation.Id;
    }

    private void Close(ActivationRequestStatus status, DateTimeOffset now)
    {
        Status = status;
        DecidedAt = now;
        ExpiresAt = null;
        Version = Guid.NewGuid();
    }

    private void RequireStatus(ActivationRequestStatus expected, string verb)
    {
        if (Status != expected)
        {
            throw new DomainRuleException($"A request that is {Status.ToString().ToLowerInvariant()} cannot be {verb}.");
        }
    }
}

/// <summary>Justification and ticket given with a request.</summary>
public sealed record RequestDetails(string? Justification, string? TicketNumber, string? TicketSystem)
{
    /// <summary>The details as typed: trimmed, and blank ones left out.</summary>
    public static RequestDetails From(string? justification, string? ticketNumber, string? ticketSystem) =>
        new(Clean(justification), Clean(ticketNumber), Clean(ticketSystem));

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>What a request asks for.</summary>
public enum ActivationRequestKind
{
    /// <summary>Activate a role from an eligibility.</summary>
    Activate,

    /// <summary>Move the end of an active activation later.</summary>
    Extend,
}

/// <summary>Where a request is in its life.</summary>
public enum ActivationRequestStatus
{
    /// <summary>Waiting for approvers; it expires if nobody decides in time.</summary>
    Pending,

    /// <summary>Approved (by the policy itself, or by enough approvers); it produces a grant.</summary>
    Approved,

    /// <summary>Approved, waiting for its requested start; it becomes Approved (and produces its grant) then.</summary>
    Scheduled,

    /// <summary>It could no longer be carried out (eligibility gone, account disabled, activation ended); nothing was granted; final.</summary>
    Lapsed,

    /// <summary>An approver denied it; final.</summary>
    Denied,

    /// <summary>The requester withdrew it while pending; final.</summary>
    Cancelled,

    /// <summary>Nobody decided before its deadline; final.</summary>
    Expired,
}

/// <summary>One approver's verdict on a request.</summary>
public sealed class ApprovalDecision
{
    private ApprovalDecision()
    {
    }

    internal ApprovalDecision(Guid id, Guid requestId, Guid approverId, ApprovalVerdict verdict, string? reason, DateTimeOffset decidedAt)
    {
        Id = id;
        RequestId = requestId;
        ApproverId = approverId;
        Verdict = verdict;
        Reason = reason;
        DecidedAt = decidedAt;
    }

    public Guid Id { get; private set; }

    public Guid RequestId { get; private set; }

    public Guid ApproverId { get; private set; }

    public ApprovalVerdict Verdict { get; private set; }

    public string? Reason { get; private set; }

    public DateTimeOffset DecidedAt { get; private set; }
}

/// <summary>An approver's answer.</summary>
public enum ApprovalVerdict
{
    /// <summary>Counts towards the approvals needed.</summary>
    Approve,

    /// <summary>Ends the request at once.</summary>
    Deny,
}
