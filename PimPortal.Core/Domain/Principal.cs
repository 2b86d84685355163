namespace PimPortal.Core.Domain;

/// <summary>A user or a group of the directory, keyed by its directory object id.</summary>
public sealed class Principal
{
    private Principal()
    {
    }

    public Principal(Guid id, PrincipalKind kind, string displayName, string? userPrincipalName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        Id = id;
        Kind = kind;
        DisplayName = displayName;
        UserPrincipalName = userPrincipalName;
        IsEnabled = true;
    }

    /// <summary>The directory object id (Entra object id, or the embedded directory's own id).</summary>
    public Guid Id { get; private set; }

    public PrincipalKind Kind { get; private set; }

    public string DisplayName { get; private set; } = "";

    /// <summary>The name as audit details and notices give an assignee: "Name", or "Name (group)".</summary>
    public string Label => Kind == PrincipalKind.Group ? $"{DisplayName} (group)" : DisplayName;

    /// <summary>Sign-in name of a user (e.g. alice@contoso.test); null for groups.</summary>
    public string? UserPrincipalName { get; private set; }

    /// <summary>A disabled principal can do nothing: every command refuses it, whatever its session says.</summary>
    public bool IsEnabled { get; private set; }

    /// <summary>The user's manager, when the directory knows one.</summary>
    public Guid? ManagerId { get; private set; }

    /// <summary>Break-glass (emergency access) account: permanently active, kept out of reviews and staleness alerts.</summary>
    public bool IsBreakGlass { get; private set; }

    /// <summary>
    /// The portal permissions the principal last signed in with (Entra app roles; comma-separated), so the portal knows
    /// whom to tell as "every PIM administrator" without a token at hand.
    /// </summary>
    public string? PortalPermissions { get; private set; }

    public void RecordPermissions(IEnumerable<string> permissions)
    {
        var joined = string.Join(",", permissions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
        PortalPermissions = joined.Length == 0 ? null : joined;
    }

    /// <summary>The directory renamed the principal (or its sign-in name changed).</summary>
    public void Rename(string displayName, string? userPrincipalName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(displayName);
        DisplayName = displayName;
        UserPrincipalName = userPrincipalName;
    }

    public void Disable() => IsEnabled = false;

    public void Enable() => IsEnabled = true;

    public void SetManager(Guid? managerId)
    {
        if (managerId == Id)
        {
            throw new DomainRuleException("A principal cannot be its own manager.");
        }

        ManagerId = managerId;
    }

    /// <summary>
    /// A break-glass account: the time of its latest sign-in in the directory's sign-in log that the portal has seen
    /// (and alerted on); the watcher reads the log from here.
    /// </summary>
    public DateTimeOffset? DirectorySignInsSeenUntil { get; private set; }

    /// <summary>
    /// When the account's credentials last changed in a way that matters: a password or authenticator reset in the
    /// portal, or in Entra the later of the last password change and the revocation of its sign-in sessions. Proof of
    /// MFA and approvals given before it do not carry over. Null until first known.
    /// </summary>
    public DateTimeOffset? CredentialsChangedAt { get; private set; }

    /// <summary>How long before a request a credential reset is shown to those who decide it.</summary>
    public static readonly TimeSpan RecentCredentialChange = TimeSpan.FromDays(7);

    /// <summary>
    /// When the credentials changed within <see cref="RecentCredentialChange"/> before <paramref name="moment"/> (a
    /// request made soon after a reset may be made by whoever reset them); otherwise null.
    /// </summary>
    public static DateTimeOffset? RecentCredentialChangeBefore(DateTimeOffset? changedAt, DateTimeOffset moment) =>
        changedAt is { } at && at <= moment && moment - at <= RecentCredentialChange ? at : null;

    /// <summary>The portal reset the account's password or authenticator at <paramref name="now"/>.</summary>
    public void CredentialsReset(DateTimeOffset now)
    {
        if (Kind != PrincipalKind.User)
        {
            throw new DomainRuleException("Only a user has credentials to reset.");
        }

        CredentialsChangedAt = now.ToUniversalTime();
    }

    /// <summary>
    /// The directory reports the credentials changed at <paramref name="changedAt"/>. Returns whether that is a reset
    /// after the one known — the first report is where the portal starts counting from, not a reset.
    /// </summary>
    public bool ObserveCredentialChange(DateTimeOffset changedAt)
    {
        var known = CredentialsChangedAt;
        if (known is { } k && changedAt <= k)
        {
            return false;
        }

        CredentialsChangedAt = changedAt.ToUniversalTime();
        return known is not null;
    }

    public void MarkBreakGlass(bool isBreakGlass)
    {
        if (isBreakGlass && Kind != PrincipalKind.User)
        {
            throw new DomainRuleException("Only a user can be a break-glass account.");
        }

        IsBreakGlass = isBreakGlass;
    }
}

/// <summary>What kind of directory object a <see cref="Principal"/> is.</summary>
public enum PrincipalKind
{
    /// <summary>A person's account.</summary>
    User,

    /// <summary>A security group; its members inherit what is given to it.</summary>
    Group,
}

/// <summary>Membership of a user in a group of the directory.</summary>
public sealed class GroupMembership
{
    private GroupMembership()
    {
    }

    public GroupMembership(Guid groupId, Guid memberId)
    {
        GroupId = groupId;
        MemberId = memberId;
    }

    public Guid GroupId { get; private set; }

    public Guid MemberId { get; private set; }
}
