namespace PimPortal.Core.Domain;

/// <summary>The rules of one privileged role: what an activation of it requires and how long it may last.</summary>
public sealed class RoleSettings
{
    /// <summary>The shortest maximum a role may set.</summary>
    public static readonly TimeSpan MinimumMaxDuration = TimeSpan.FromMinutes(30);

    /// <summary>The longest any activation may last, whatever a role says (Entra's own ceiling).</summary>
    public static readonly TimeSpan AbsoluteMaxDuration = TimeSpan.FromHours(24);

    /// <summary>The shortest and longest time a request may wait for a decision.</summary>
    public static readonly TimeSpan MinimumApprovalTimeout = TimeSpan.FromHours(1);

    public static readonly TimeSpan MaximumApprovalTimeout = TimeSpan.FromDays(14);

    /// <summary>The longest time-bound eligibility or active assignment any role may allow.</summary>
    public const int MaximumAssignmentDays = 3650;

    /// <summary>The most approvers (users or groups) a role may name — and so the most approvals it may need.</summary>
    public const int MaxApprovers = 50;

    private readonly List<RoleApprover> _approvers = [];

    private readonly List<RoleNotificationRule> _notificationRules = [];

    private RoleSettings()
    {
    }

    public RoleSettings(
        TimeSpan maxActivationDuration,
        bool requireMfa,
        bool requireJustification,
        bool requireTicket,
        bool requireApproval = false,
        int approvalsNeeded = 1)
    {
        RoleId = Guid.Empty;
        SetMaxActivationDuration(maxActivationDuration);
        RequireMfa = requireMfa;
        RequireJustification = requireJustification;
        RequireTicket = requireTicket;
        RequireApproval = requireApproval;
        SetApprovalsNeeded(approvalsNeeded);
    }

    public Guid RoleId { get; private set; }

    /// <summary>The longest one activation may last (30 minutes to 24 hours).</summary>
    public TimeSpan MaxActivationDuration { get; private set; }

    /// <summary>A fresh multi-factor proof is needed at the moment of activation.</summary>
    public bool RequireMfa { get; private set; }

    /// <summary>The requester must say why.</summary>
    public bool RequireJustification { get; private set; }

    /// <summary>The requester must give a ticket number (and its system).</summary>
    public bool RequireTicket { get; private set; }

    /// <summary>Someone named in <see cref="Approvers"/> must approve before the role is granted.</summary>
    public bool RequireApproval { get; private set; }

    /// <summary>How many distinct approvers must approve (M of N); 1 unless set.</summary>
    public int ApprovalsNeeded { get; private set; } = 1;

    /// <summary>How long a request may wait for a decision before it expires.</summary>
    public TimeSpan ApprovalTimeout { get; private set; } = TimeSpan.FromHours(24);

    public IReadOnlyList<RoleApprover> Approvers => _approvers;

    /// <summary>Whether an eligibility may be permanent; when not, it lasts at most <see cref="MaxEligibilityDays"/>.</summary>
    public bool AllowPermanentEligibility { get; private set; } = true;

    /// <summary>The longest a time-bound eligibility may last, in days (and every eligibility when permanent is not allowed).</summary>
    public int MaxEligibilityDays { get; private set; } = 365;

    /// <summary>
    /// Whether an administrator may assign the role permanently active (standing access); when not, an active
    /// assignment lasts at most <see cref="MaxActiveAssignmentDays"/>.
    /// </summary>
    public bool AllowPermanentActiveAssignment { get; private set; }

    /// <summary>The longest an active assignment made by an administrator may last, in days.</summary>
    public int MaxActiveAssignmentDays { get; private set; } = 180;

    /// <summary>Who is told when the role is assigned eligible, assigned active, or activated.</summary>
    public IReadOnlyList<RoleNotificationRule> NotificationRules => _notificationRules;

    /// <summary>Changes whenever a setting changes, so two administrators editing at once cannot overwrite each other unseen.</summary>
    public Guid Version { get; private set; } = Guid.NewGuid();

    public void SetRequirements(bool requireMfa, bool requireJustification, bool requireTicket)
    {
        RequireMfa = requireMfa;
        RequireJustification = requireJustification;
        RequireTicket = requireTicket;
    }

    /// <summary>
    /// Sets approval: on, with these approvers (users or groups) and how many must approve; or off. Approval on needs
    /// enough approvers to meet the count.
    /// </summary>
    public void SetApproval(bool requireApproval, int approvalsNeeded, IReadOnlyCollection<Guid> approvers, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(approvers);
        if (approvalsNeeded < 1)
        {
            throw new DomainRuleException("At least one approval is needed.");
        }

        if (requireApproval && approvers.Count == 0)
        {
            throw new DomainRuleException("Approval needs at least one approver.");
        }

        if (requireApproval && approvalsNeeded > approvers.Count)
        {
            throw new DomainRuleException($"{approvalsNeeded} approvals cannot be met by {approvers.Count} approvers.");
        }

        if (timeout < MinimumApprovalTimeout || timeout > MaximumApprovalTimeout)
        {
            throw new DomainRuleException(
                $"A request must wait between {MinimumApprovalTimeout.TotalHours:0} hour and {MaximumApprovalTimeout.TotalDays:0} days for a decision.");
        }

        RequireApproval = requireApproval;
        _approvers.RemoveAll(a => !approvers.Contains(a.PrincipalId));
        foreach (var approver in approvers)
        {
            AddApprover(approver);
        }

        ApprovalsNeeded = approvalsNeeded;
        ApprovalTimeout = timeout;
    }

    public void SetEligibilityExpiry(bool allowPermanent, int maxDays)
    {
        MaxEligibilityDays = CheckDays(maxDays, "An eligibility");
        AllowPermanentEligibility = allowPermanent;
    }

    public void SetActiveAssignmentExpiry(bool allowPermanent, int maxDays)
    {
        MaxActiveAssignmentDays = CheckDays(maxDays, "An active assignment");
        AllowPermanentActiveAssignment = allowPermanent;
    }

    /// <summary>Replaces who is told of <paramref name="rule"/>'s event.</summary>
    public void SetNotificationRule(RoleNotificationRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _notificationRules.RemoveAll(r => r.Event == rule.Event);
        rule.BelongTo(RoleId);
        _notificationRules.Add(rule);
    }

    /// <summary>Who is told of <paramref name="roleEvent"/> (nobody unless set).</summary>
    public RoleNotificationRule RuleFor(RoleNotificationEvent roleEvent) =>
        _notificationRules.Find(r => r.Event == roleEvent) ?? new RoleNotificationRule(roleEvent, false, false, []);

    /// <summary>Marks the settings changed (a new concurrency version).</summary>
    public void Touch() => Version = Guid.NewGuid();

    /// <summary>
    /// The latest end an assignment (eligible or active) starting at <paramref name="start"/> may have under these
    /// rules, or null when it may be permanent.
    /// </summary>
    public DateTimeOffset? LatestEnd(bool active, DateTimeOffset start) =>
        (active ? AllowPermanentActiveAssignment : AllowPermanentEligibility) ? null : start.AddDays(active ? MaxActiveAssignmentDays : MaxEligibilityDays);

    /// <summary>
    /// Refuses an assignment window these rules do not allow (permanent where it is not allowed, or too long). A
    /// break-glass account — the one standing access the portal keeps — may be assigned active permanently whatever
    /// the role allows everyone else.
    /// </summary>
    public void CheckAssignmentWindow(bool active, DateTimeOffset start, DateTimeOffset? end, bool breakGlass = false)
    {
        var what = active ? "An active assignment of this role" : "An eligibility for this role";
        var allowPermanent = active ? AllowPermanentActiveAssignment : AllowPermanentEligibility;
        var maxDays = active ? MaxActiveAssignmentDays : MaxEligibilityDays;
        if (end is null)
        {
            if (!allowPermanent && !(active && breakGlass))
            {
                var exception = active ? " (only a break-glass account's can)" : "";
                throw new DomainRuleException($"{what} cannot be permanent{exception}; it may last at most {maxDays} days.");
            }

            return;
        }

        if (end <= start)
        {
            throw new DomainRuleException("The end must be after the start.");
        }

        if (!allowPermanent && end.Value > start.AddDays(maxDays))
        {
            throw new DomainRuleException($"{what} may last at most {maxDays} days (until {start.AddDays(maxDays):yyyy-MM-dd}).");
        }
    }

    private static int CheckDays(int days, string what)
    {
        if (days < 1 || days > MaximumAssignmentDays)
        {
            throw new DomainRuleException($"{what} may be limited to between 1 and {MaximumAssignmentDays} days.");
        }

        return days;
    }

    public void SetMaxActivationDuration(TimeSpan value)
    {
        if (value < MinimumMaxDuration || value > AbsoluteMaxDuration)
        {
            throw new DomainRuleException(
                $"The maximum activation duration must be between {MinimumMaxDuration.TotalMinutes:0} minutes and {AbsoluteMaxDuration.TotalHours:0} hours.");
        }

        MaxActivationDuration = value;
    }

    public void SetApprovalsNeeded(int value)
    {
        if (value < 1)
        {
            throw new DomainRuleException("At least one approval is needed.");
        }

        if (RequireApproval && _approvers.Count > 0 && value > _approvers.Count)
        {
            throw new DomainRuleException($"{value} approvals cannot be met by {_approvers.Count} approvers.");
        }

        ApprovalsNeeded = value;
    }

    public void AddApprover(Guid principalId)
    {
        if (_approvers.Exists(a => a.PrincipalId == principalId))
        {
            return;
        }

        _approvers.Add(new RoleApprover(RoleId, principalId));
    }

    /// <summary>Takes a user or group off the approvers; their next decision is refused.</summary>
    public void RemoveApprover(Guid principalId) => _approvers.RemoveAll(a => a.PrincipalId == principalId);
}

/// <summary>The events of a role whose recipients are set per role.</summary>
public enum RoleNotificationEvent
{
    /// <summary>Someone was made eligible for the role.</summary>
    EligibilityAssigned,

    /// <summary>An administrator assigned the role active.</summary>
    ActiveAssigned,

    /// <summary>An eligible user activated the role.</summary>
    Activated,
}

/// <summary>
/// Who is told of one event of a role: the PIM administrators, the person it concerns, and further mail addresses
/// (e.g. a security team's list).
/// </summary>
public sealed class RoleNotificationRule
{
    /// <summary>Most characters of the additional recipients, all addresses together.</summary>
    public const int MaxRecipientsLength = 1000;

    private RoleNotificationRule()
    {
    }

    public RoleNotificationRule(RoleNotificationEvent roleEvent, bool notifyAdministrators, bool notifyAssignee, IReadOnlyCollection<string> additionalRecipients)
    {
        ArgumentNullException.ThrowIfNull(additionalRecipients);
        var addresses = additionalRecipients.Select(a => a.Trim()).Where(a => a.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var address in addresses)
        {
            if (!System.Net.Mail.MailAddress.TryCreate(address, out var parsed) || parsed.Address != address || !address.Contains('.', StringComparison.Ordinal))
            {
                throw new DomainRuleException($"\"{address}\" is not a mail address (name@example.com).");
            }
        }

        var joined = string.Join(",", addresses);
        if (joined.Length > MaxRecipientsLength)
        {
            throw new DomainRuleException($"The additional recipients are {joined.Length} characters; at most {MaxRecipientsLength} are accepted.");
        }

        Event = roleEvent;
        NotifyAdministrators = notifyAdministrators;
        NotifyAssignee = notifyAssignee;
        AdditionalRecipients = joined;
    }

    public Guid RoleId { get; private set; }

    public RoleNotificationEvent Event { get; private set; }

    /// <summary>Every PIM administrator is told.</summary>
    public bool NotifyAdministrators { get; private set; }

    /// <summary>The person assigned or activating is told.</summary>
    public bool NotifyAssignee { get; private set; }

    /// <summary>Further mail addresses, comma-separated.</summary>
    public string AdditionalRecipients { get; private set; } = "";

    public IReadOnlyList<string> AdditionalAddresses => AdditionalRecipients.Length == 0 ? [] : AdditionalRecipients.Split(',');

    public bool NotifiesAnyone => NotifyAdministrators || NotifyAssignee || AdditionalRecipients.Length > 0;

    internal void BelongTo(Guid roleId) => RoleId = roleId;
}

/// <summary>A user or group whose members may approve activations of a role.</summary>
public sealed class RoleApprover
{
    private RoleApprover()
    {
    }

    internal RoleApprover(Guid roleId, Guid principalId)
    {
        RoleId = roleId;
        PrincipalId = principalId;
    }

    public Guid RoleId { get; private set; }

    public Guid PrincipalId { get; private set; }
}
