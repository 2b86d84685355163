namespace PimPortal.Core.Domain;

/// <summary>The rules of one privileged role: what an activation of it requires and how long it may last.</summary>
public sealed class RoleSettings
{
    /// <summary>The shortest maximum a role may set.</summary>
    public static readonly TimeSpan MinimumMaxDuration = TimeSpan.FromMinutes(30);

    /// <summary>The longest any activation may last, whatever a role says (Entra's own ceiling).</summary>
    public static readonly TimeSpan AbsoluteMaxDuration = TimeSpan.FromHours(24);

    private readonly List<RoleApprover> _approvers = [];

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
