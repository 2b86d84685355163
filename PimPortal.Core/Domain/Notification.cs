namespace PimPortal.Core.Domain;

/// <summary>
/// News for one principal — a request to decide, a decision on their request — shown in the portal's notification
/// list and, when SMTP is configured, mailed. Written in the same transaction as the change it tells of; the mail
/// worker sends it after commit, with retries.
/// </summary>
public sealed class Notification
{
    /// <summary>Most mail attempts before a notification's email is given up.</summary>
    public const int MaxEmailAttempts = 5;

    private Notification()
    {
    }

    public Notification(Guid id, Guid? recipientId, NotificationKind kind, string subject, string body, string link, Guid? requestId, string? emailTo, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        if (recipientId is null && emailTo is null)
        {
            throw new ArgumentException("A notification for nobody's bell must be mailed.", nameof(emailTo));
        }

        Id = id;
        RecipientId = recipientId;
        Kind = kind;
        Subject = subject.Length > 200 ? subject[..200] : subject;
        Body = body.Length > 4000 ? body[..4000] : body;
        Link = link;
        RequestId = requestId;
        CreatedAt = now;
        EmailTo = emailTo;
        EmailStatus = emailTo is null ? EmailStatus.NotSent : EmailStatus.Pending;
        EmailDueAt = now;
        Version = Guid.NewGuid();
    }

    public Guid Id { get; private set; }

    /// <summary>Whose bell shows it; null for a mail to an address that is nobody's account (e.g. a team list).</summary>
    public Guid? RecipientId { get; private set; }

    public NotificationKind Kind { get; private set; }

    public string Subject { get; private set; } = "";

    public string Body { get; private set; } = "";

    /// <summary>Where in the portal it leads (a path such as /requests/{id}).</summary>
    public string Link { get; private set; } = "";

    public Guid? RequestId { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? ReadAt { get; private set; }

    /// <summary>The address it is mailed to; null when it is in-app only.</summary>
    public string? EmailTo { get; private set; }

    public EmailStatus EmailStatus { get; private set; }

    public int EmailAttempts { get; private set; }

    /// <summary>Not to be mailed before this time (backoff, or a worker's claim).</summary>
    public DateTimeOffset EmailDueAt { get; private set; }

    public DateTimeOffset? EmailSentAt { get; private set; }

    public string? EmailError { get; private set; }

    /// <summary>Changes on every mail transition, so two workers cannot both send it.</summary>
    public Guid Version { get; private set; }

    public void MarkRead(DateTimeOffset now) => ReadAt ??= now;

    /// <summary>A worker takes it for sending until <paramref name="until"/>; another may take it after.</summary>
    public void ClaimEmail(DateTimeOffset until)
    {
        if (EmailStatus != EmailStatus.Pending)
        {
            throw new DomainRuleException($"A notification whose email is {EmailStatus.ToString().ToLowerInvariant()} is not sent again.");
        }

        EmailDueAt = until;
        Version = Guid.NewGuid();
    }

    public void EmailSent(DateTimeOffset now)
    {
        EmailStatus = EmailStatus.Sent;
        EmailSentAt = now;
        EmailError = null;
        Version = Guid.NewGuid();
    }

    /// <summary>The mail server refused or could not be reached: try again at <paramref name="retryAt"/>, or give up after the last attempt.</summary>
    public void EmailFailed(string error, DateTimeOffset retryAt)
    {
        EmailAttempts++;
        EmailError = error.Length > 1000 ? error[..1000] : error;
        EmailDueAt = retryAt;
        if (EmailAttempts >= MaxEmailAttempts)
        {
            EmailStatus = EmailStatus.Failed;
        }

        Version = Guid.NewGuid();
    }
}

/// <summary>What a notification tells of.</summary>
public enum NotificationKind
{
    /// <summary>A request waits for the recipient's decision.</summary>
    ApprovalRequested,

    /// <summary>The recipient's request was approved.</summary>
    RequestApproved,

    /// <summary>The recipient's request was denied.</summary>
    RequestDenied,

    /// <summary>The recipient's request expired undecided, or lapsed.</summary>
    RequestClosed,

    /// <summary>Someone was made eligible for a role.</summary>
    EligibilityAssigned,

    /// <summary>An administrator assigned a role active.</summary>
    ActiveAssigned,

    /// <summary>A role was activated.</summary>
    RoleActivated,

    /// <summary>An eligibility ends soon.</summary>
    EligibilityEnding,

    /// <summary>An alert for PIM administrators (e.g. a break-glass account was used).</summary>
    Alert,

    /// <summary>An access review has lines for the recipient to decide.</summary>
    ReviewAssigned,

    /// <summary>An access review ends soon and the recipient has lines left.</summary>
    ReviewReminder,
}

/// <summary>Where a notification's email is.</summary>
public enum EmailStatus
{
    /// <summary>In-app only: no SMTP server is configured, or the recipient has no address.</summary>
    NotSent,

    /// <summary>Waiting for the mail worker.</summary>
    Pending,

    /// <summary>Accepted by the SMTP server.</summary>
    Sent,

    /// <summary>Given up after the last attempt.</summary>
    Failed,
}
