namespace PimPortal.Core;

/// <summary>The portal's configuration, section <c>Pim</c>.</summary>
public sealed class PimOptions
{
    public const string Section = "Pim";

    /// <summary><c>Embedded</c> (local accounts, TOTP, embedded directory) or <c>Entra</c>.</summary>
    public PimMode Mode { get; set; } = PimMode.Embedded;

    public DatabaseOptions Database { get; set; } = new();

    public StepUpOptions StepUp { get; set; } = new();

    public ActivationOptions Activation { get; set; } = new();

    public DemoOptions Demo { get; set; } = new();

    /// <summary>Whether to seed the demo: <c>Pim:Demo:Seed</c> when set, otherwise only in the embedded default.</summary>
    public bool SeedsDemo => Demo.Seed ?? (Mode == PimMode.Embedded && Database.Provider == DatabaseProvider.Sqlite);

    public JobOptions Jobs { get; set; } = new();

    /// <summary>Whether this instance runs the change feed: <c>Pim:Jobs:ChangeFeed</c> when set, else on a shared server database.</summary>
    public bool RunsChangeFeed => Jobs.ChangeFeed ?? Database.Provider != DatabaseProvider.Sqlite;

    public SmtpOptions Smtp { get; set; } = new();

    public AlertOptions Alerts { get; set; } = new();

    public AuditOptions Audit { get; set; } = new();

    public ReviewOptions Reviews { get; set; } = new();

    public KeyRingOptions DataProtection { get; set; } = new();

    public RateLimitOptions RateLimits { get; set; } = new();

    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>The portal's address as users reach it, for the links in emails (e.g. https://pim.contoso.com).</summary>
    public Uri PublicUrl { get; set; } = new("http://localhost:5080");

    /// <summary>An absolute link to <paramref name="path"/> on <see cref="PublicUrl"/>.</summary>
    public Uri LinkTo(string path) => new(new Uri(PublicUrl.AbsoluteUri.TrimEnd('/') + "/"), path.TrimStart('/'));
}

/// <summary>How people sign in and where grants go.</summary>
public enum PimMode
{
    /// <summary>Local accounts, TOTP step-up, the portal's own directory tables.</summary>
    Embedded,

    /// <summary>Entra ID sign-in, Conditional Access step-up, grants written to Microsoft Graph.</summary>
    Entra,
}

/// <summary>Section <c>Pim:Database</c>; the connection string is <c>ConnectionStrings:Pim</c>.</summary>
public sealed class DatabaseOptions
{
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply pending migrations on start (always true for SQLite; opt-in for shared servers).</summary>
    public bool MigrateOnStart { get; set; }
}

/// <summary>The database engines the portal runs on; each has its own migrations.</summary>
public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
    SqlServer,
}

/// <summary>Section <c>Pim:StepUp</c>: multi-factor step-up at activation.</summary>
public sealed class StepUpOptions
{
    /// <summary>How long a proof of MFA counts as fresh (default 5 minutes).</summary>
    public TimeSpan FreshFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long step-up is locked after too many wrong codes in a row.</summary>
    public TimeSpan LockoutFor { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Entra mode: the Conditional Access authentication context the step-up asks for (its id, e.g. c1).</summary>
    public string AuthenticationContext { get; set; } = "c1";
}

/// <summary>Section <c>Pim:Activation</c>.</summary>
public sealed class ActivationOptions
{
    /// <summary>Letters or digits a required justification needs at least ("." or "n/a" is not a reason); 1 to 100.</summary>
    public int JustificationMinimum { get; set; } = Policy.ActivationPolicy.DefaultJustificationMinimum;
}

/// <summary>Section <c>Pim:Demo</c>.</summary>
public sealed class DemoOptions
{
    /// <summary>
    /// Seed the demo organisation into an empty database. Unset: true in the embedded default (Embedded mode on
    /// SQLite), false otherwise.
    /// </summary>
    public bool? Seed { get; set; }
}

/// <summary>Section <c>Pim:Jobs</c>: the background workers.</summary>
public sealed class JobOptions
{
    /// <summary>Run the outbox and expiry workers in this instance.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the outbox worker looks for work it was not told about (another instance's, a retry).</summary>
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest the expiry worker sleeps when nothing is due sooner.</summary>
    public TimeSpan ExpiryMaxIdle { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts at a directory write before it is given up (and the activation marked Failed).</summary>
    public int OutboxMaxAttempts { get; set; } = 8;

    /// <summary>
    /// After a pass that found work, how long the outbox lets more gather before the next claim: under a burst (a
    /// thousand grants ending in one second) it writes a few large batches instead of hundreds of tiny ones. An idle
    /// outbox still acts on a signal at once.
    /// </summary>
    public TimeSpan OutboxCoalesce { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// This instance's name, unique among the instances sharing a database (unset: the host name — a container's or
    /// pod's is). A restarted instance frees the outbox claims its previous run left under the same name.
    /// </summary>
    public string? InstanceName { get; set; }

    /// <summary>The name in use (<see cref="InstanceName"/> or the host name).</summary>
    public string Instance => string.IsNullOrWhiteSpace(InstanceName) ? Environment.MachineName : InstanceName;

    /// <summary>How long a claimed outbox message is held before another worker may take it.</summary>
    public TimeSpan OutboxLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Carry other instances' changes to this instance's open pages (several instances on one database). Unset: on
    /// for PostgreSQL and SQL Server, off for SQLite (one instance).
    /// </summary>
    public bool? ChangeFeed { get; set; }

    /// <summary>Entra mode: how often users (name, enabled, manager) and group members are read from the directory.</summary>
    public TimeSpan DirectorySyncInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the drift scan reads who holds the managed roles in the directory.</summary>
    public TimeSpan DriftInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often the change feed looks for other instances' changes.</summary>
    public TimeSpan ChangeFeedInterval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Section <c>Pim:Smtp</c>: the mail server notifications are sent through. With no <see cref="Host"/>, notifications
/// stay in the portal (the notification list) and nothing is mailed.
/// </summary>
public sealed class SmtpOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>
    /// <c>Auto</c> (STARTTLS when offered; required when a user name is set), <c>None</c>, <c>StartTls</c> (required) or
    /// <c>SslOnConnect</c>.
    /// </summary>
    public SmtpSecurity Security { get; set; } = SmtpSecurity.Auto;

    /// <summary>Sign in to the server with these, when set.</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>The sender, e.g. <c>PimPortal &lt;pim@contoso.com&gt;</c>.</summary>
    public string From { get; set; } = "PimPortal <pimportal@localhost>";

    /// <summary>How long one connection attempt may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);
}

/// <summary>How the connection to the SMTP server is secured.</summary>
public enum SmtpSecurity
{
    Auto,
    None,
    StartTls,
    SslOnConnect,
}

/// <summary>Section <c>Pim:Alerts</c>: the alerts for PIM administrators and their thresholds.</summary>
public sealed class AlertOptions
{
    /// <summary>How often the alerts are evaluated (and eligibility end notices sent).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// "Too many Global Administrators" is raised when more than this many principals hold or may activate Global
    /// Administrator <em>and</em> they are more than <see cref="GlobalAdministratorShare"/> of everyone holding or
    /// eligible for any managed role.
    /// </summary>
    public int GlobalAdministratorCount { get; set; } = 5;

    /// <summary>The share (0–1) of privileged principals above which Global Administrators are too many.</summary>
    public double GlobalAdministratorShare { get; set; } = 0.1;

    /// <summary>An eligible user who has not activated the role for this many days is stale (break-glass accounts excepted).</summary>
    public int StaleAfterDays { get; set; } = 90;

    /// <summary>More activations than this of one role by one user within <see cref="FrequentActivationWindow"/> raise an alert.</summary>
    public int FrequentActivationCount { get; set; } = 10;

    public TimeSpan FrequentActivationWindow { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Whether roles that can be activated without MFA raise an alert.</summary>
    public bool RolesWithoutMfa { get; set; } = true;

    /// <summary>How long before its end an eligibility's holder is told it ends (default 14 days).</summary>
    public TimeSpan EligibilityNotice { get; set; } = TimeSpan.FromDays(14);
}

/// <summary>Section <c>Pim:Audit</c>: sealing and retention of the audit trail.</summary>
public sealed class AuditOptions
{
    /// <summary>How often new audit events are sealed into a checkpoint (default 30 seconds).</summary>
    public TimeSpan SealInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long audit events are kept; older ones are archived, then pruned. Unset: kept for ever.</summary>
    public TimeSpan? Retention { get; set; }

    /// <summary>Where pruned events are archived (relative to the working directory unless absolute).</summary>
    public string ArchiveDirectory { get; set; } = "audit-archive";
}

/// <summary>Section <c>Pim:Reviews</c>: the access review worker.</summary>
public sealed class ReviewOptions
{
    /// <summary>How often the worker opens due instances, sends reminders and closes ended ones (default 1 minute).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);
}
