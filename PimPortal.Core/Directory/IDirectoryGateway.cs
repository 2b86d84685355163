using PimPortal.Core.Domain;

namespace PimPortal.Core.Directory;

/// <summary>
/// The directory the grants are written to: the portal's own tables in the embedded default, Microsoft Graph in
/// production. Changes come in batches (Graph takes 20 per $batch; the local tables one transaction) and every change
/// is idempotent, keyed by the activation id, so a retry never doubles or loses a grant.
/// </summary>
public interface IDirectoryGateway
{
    /// <summary>
    /// Applies each change and says, per change and in the same order, how it went; one failing change does not stop
    /// the others.
    /// </summary>
    Task<IReadOnlyList<DirectoryChangeResult>> ApplyAsync(IReadOnlyList<DirectoryChange> changes, CancellationToken cancellationToken);

    /// <summary>Who holds the managed roles right now, as the directory says.</summary>
    Task<IReadOnlyList<DirectoryHolder>> ListHoldersAsync(CancellationToken cancellationToken);

    /// <summary>
    /// What the directory says of these principals now — users: name, sign-in name, whether enabled, manager; groups:
    /// members. A principal the directory does not know is left out.
    /// </summary>
    Task<IReadOnlyList<DirectoryPrincipal>> ReadPrincipalsAsync(IReadOnlyList<(Guid Id, PrincipalKind Kind)> principals, CancellationToken cancellationToken);

    /// <summary>
    /// The sign-ins of <paramref name="userId"/> anywhere in the directory after <paramref name="after"/>, oldest first
    /// (for watching break-glass accounts). Null when the directory cannot say (no permission to read its sign-in log,
    /// or not now): nothing is concluded from that.
    /// </summary>
    Task<IReadOnlyList<DirectorySignIn>?> ReadSignInsAsync(Guid userId, DateTimeOffset after, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the directory answers now — for the readiness probe: a token and the cheapest read there is. Throws
    /// what went wrong. The embedded directory (the portal's own tables) is checked with the database.
    /// </summary>
    Task CheckAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>One sign-in of a user as the directory's sign-in log records it.</summary>
/// <param name="Application">The application signed in to (e.g. "Azure Portal").</param>
public sealed record DirectorySignIn(string Id, Guid UserId, DateTimeOffset At, string? Application, string? IpAddress, bool Succeeded);

/// <summary>A user or group as the directory describes it.</summary>
public sealed record DirectoryPrincipal(Guid Id, PrincipalKind Kind, string DisplayName, string? UserPrincipalName, bool Enabled, Guid? ManagerId, IReadOnlyList<Guid> Members)
{
    /// <summary>The directory no longer has this principal (deleted): it is disabled in the portal.</summary>
    public bool Deleted { get; init; }

    /// <summary>
    /// A user's latest credential change the directory knows of — the later of its last password change and the
    /// revocation of its sign-in sessions (an administrator's reset does both); null when the directory does not say.
    /// </summary>
    public DateTimeOffset? CredentialsChangedAt { get; init; }
}

/// <summary>What to do with a grant in the directory.</summary>
public enum DirectoryChangeKind
{
    /// <summary>Make the assignment exist (nothing if it already does).</summary>
    Assign,

    /// <summary>Move the end of the assignment, where the directory enforces one.</summary>
    Extend,

    /// <summary>Make the assignment not exist (an assignment already gone counts as removed).</summary>
    Remove,
}

/// <summary>One change to one grant.</summary>
public sealed record DirectoryChange(DirectoryChangeKind Kind, DirectoryGrant Grant);

/// <summary>One grant as the directory needs it.</summary>
public sealed record DirectoryGrant(
    Guid ActivationId,
    Guid PrincipalId,
    Guid RoleId,
    RoleKind Kind,
    string RoleExternalId,
    string Scope,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter)
{
    /// <summary>A permanent active assignment: the directory is told "no expiration".</summary>
    public bool IsPermanent => NotAfter == Domain.RoleActivation.PermanentEnd;

    /// <summary>The end to write, or null for none.</summary>
    public DateTimeOffset? End => IsPermanent ? null : NotAfter;
}

/// <summary>How one change went.</summary>
public sealed record DirectoryChangeResult(DirectoryChange Change, DirectoryChangeOutcome Outcome, string? Error = null)
{
    /// <summary>For <see cref="DirectoryChangeOutcome.RetryLater"/>: when the directory said to come back (Retry-After), if it did.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The directory throttled the write (HTTP 429): counted apart from other retries (<c>pim.directory.retries</c>).</summary>
    public bool Throttled { get; init; }

    public static DirectoryChangeResult Done(DirectoryChange change) => new(change, DirectoryChangeOutcome.Done);
}

/// <summary>The outcome of one directory change.</summary>
public enum DirectoryChangeOutcome
{
    /// <summary>The directory is now as asked.</summary>
    Done,

    /// <summary>Not done, worth retrying (throttled, an outage, an ambiguous answer not yet reconciled).</summary>
    RetryLater,

    /// <summary>Refused for good (e.g. the role or principal does not exist there).</summary>
    Refused,
}

/// <summary>One current holder of a role, as the directory reports it.</summary>
public sealed record DirectoryHolder(
    Guid PrincipalId,
    string PrincipalName,
    Guid RoleId,
    string RoleName,
    RoleKind Kind,
    string Scope,
    DateTimeOffset Since,
    DateTimeOffset? Until,
    Guid? ActivationId)
{
    /// <summary>A standing assignment: not made by an activation of the portal.</summary>
    public bool IsStanding => ActivationId is null;
}
