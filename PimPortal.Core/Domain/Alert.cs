namespace PimPortal.Core.Domain;

/// <summary>
/// Something a PIM administrator should look at: raised by the alert evaluation (or at once, for a break-glass
/// account's use), kept while its condition holds, resolved when it no longer does — or, for a break-glass use, when
/// an administrator acknowledges it. <see cref="Key"/> names the condition, so one condition has one open alert.
/// </summary>
public sealed class Alert
{
    private Alert()
    {
    }

    public Alert(Guid id, AlertKind kind, string key, AlertSeverity severity, string summary, string detail, Guid? principalId, Guid? roleId, Guid? subjectId, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(summary);
        Id = id;
        Kind = kind;
        Key = key;
        Severity = severity;
        Summary = Cut(summary, 300);
        Detail = Cut(detail, 2000);
        PrincipalId = principalId;
        RoleId = roleId;
        SubjectId = subjectId;
        RaisedAt = now;
        LastSeenAt = now;
        Occurrences = 1;
        Version = Guid.NewGuid();
    }

    public Guid Id { get; private set; }

    public AlertKind Kind { get; private set; }

    /// <summary>The condition, e.g. <c>no-mfa:{roleId}</c>; at most one open alert per key.</summary>
    public string Key { get; private set; } = "";

    public AlertSeverity Severity { get; private set; }

    public string Summary { get; private set; } = "";

    public string Detail { get; private set; } = "";

    /// <summary>The account it is about, if one.</summary>
    public Guid? PrincipalId { get; private set; }

    /// <summary>The role it is about, if one.</summary>
    public Guid? RoleId { get; private set; }

    /// <summary>The eligibility (or other record) its remediation acts on, if one.</summary>
    public Guid? SubjectId { get; private set; }

    public DateTimeOffset RaisedAt { get; private set; }

    public DateTimeOffset LastSeenAt { get; private set; }

    /// <summary>How many times the condition was seen (each use of a break-glass account counts).</summary>
    public int Occurrences { get; private set; }

    public DateTimeOffset? ResolvedAt { get; private set; }

    public string? Resolution { get; private set; }

    public Guid? ResolvedBy { get; private set; }

    public Guid Version { get; private set; }

    /// <summary>The person whose action raised it (a change's author), if one: they cannot acknowledge it.</summary>
    public Guid? CausedBy { get; init; }

    public bool IsOpen => ResolvedAt is null;

    /// <summary>
    /// Alerts about something that happened (a use, a mark, a change, a reset) stay until a PIM administrator other
    /// than the one it is about, or who caused it, acknowledges them; the rest follow a condition and resolve
    /// themselves once it is remedied.
    /// </summary>
    public static bool IsAcknowledgeable(AlertKind kind) =>
        kind is AlertKind.BreakGlassUsed or AlertKind.BreakGlassChanged or AlertKind.ProtectedRoleChanged or AlertKind.CredentialsReset;

    /// <summary>Whether <paramref name="principalId"/> is the account this alert is about, or the one who caused it.</summary>
    public bool Involves(Guid principalId) => PrincipalId == principalId || CausedBy == principalId;

    /// <summary>Seen again: the summary and detail follow the latest figures.</summary>
    public void SeenAgain(string summary, string detail, DateTimeOffset now, bool countOccurrence = false)
    {
        Summary = Cut(summary, 300);
        Detail = Cut(detail, 2000);
        LastSeenAt = now;
        if (countOccurrence)
        {
            Occurrences++;
        }

        Version = Guid.NewGuid();
    }

    public void Resolve(string resolution, Guid? by, DateTimeOffset now)
    {
        if (ResolvedAt is not null)
        {
            throw new DomainRuleException("This alert is resolved already.");
        }

        ResolvedAt = now;
        Resolution = Cut(resolution, 500);
        ResolvedBy = by;
        Version = Guid.NewGuid();
    }

    private static string Cut(string text, int length) => text.Length > length ? text[..length] : text;
}

/// <summary>What an alert is about.</summary>
public enum AlertKind
{
    /// <summary>More principals hold or may activate Global Administrator than the thresholds allow.</summary>
    TooManyGlobalAdministrators,

    /// <summary>A role can be activated without a fresh MFA proof.</summary>
    RoleWithoutMfa,

    /// <summary>An eligible user has not activated the role for a long time.</summary>
    StaleEligibility,

    /// <summary>A user activated the same role more often than the threshold in the window.</summary>
    FrequentActivation,

    /// <summary>A break-glass account signed in or acted.</summary>
    BreakGlassUsed,

    /// <summary>An account was marked as break-glass, or the mark was taken away.</summary>
    BreakGlassChanged,

    /// <summary>Someone holds a role permanently although the role's rules no longer allow it.</summary>
    PermanentAssignmentNotAllowed,

    /// <summary>
    /// A request waits for approvals that nobody left can give: its approvers are disabled, removed, or are the requester.
    /// </summary>
    UndecidableRequest,

    /// <summary>The settings of a protected role (Global Administrator, Privileged Role Administrator) were changed.</summary>
    ProtectedRoleChanged,

    /// <summary>
    /// A user's password or authenticator was reset (in the portal, or in Entra as the directory sync saw it): whoever
    /// holds the new credentials can act as them.
    /// </summary>
    CredentialsReset,
}

public enum AlertSeverity
{
    Low,
    Medium,
    High,
}
