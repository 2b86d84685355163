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
