namespace PimPortal.Core.Domain;

/// <summary>
/// One line of the audit trail: who did what to what, when, from where, and how it ended. Written in the same
/// transaction as the change it records; never updated or deleted.
/// </summary>
public sealed class AuditEvent
{
    private AuditEvent()
    {
    }

    public AuditEvent(
        DateTimeOffset occurredAt, Guid? actorId, string actorName, string action, string targetType, string targetId,
        AuditOutcome outcome, string? details, Guid? subjectId = null, Guid? roleId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentException.ThrowIfNullOrWhiteSpace(targetType);
        OccurredAt = occurredAt;
        ActorId = actorId;
        ActorName = actorName;
        Action = action;
        TargetType = targetType;
        TargetId = targetId;
        Outcome = outcome;
        Details = details;
        SubjectId = subjectId;
        RoleId = roleId;
    }

    public long Id { get; private set; }

    public DateTimeOffset OccurredAt { get; private set; }

    /// <summary>The principal who acted; null for the system itself (the expiry worker, the outbox worker).</summary>
    public Guid? ActorId { get; private set; }

    public string ActorName { get; private set; } = "";

    /// <summary>What happened, e.g. <c>activation.requested</c>; see <see cref="AuditActions"/>.</summary>
    public string Action { get; private set; } = "";

    public string TargetType { get; private set; } = "";

    public string TargetId { get; private set; } = "";

    /// <summary>The principal the event is about (the requester, the holder), when there is one.</summary>
    public Guid? SubjectId { get; private set; }

    public Guid? RoleId { get; private set; }

    public AuditOutcome Outcome { get; private set; }

    /// <summary>A small JSON object with what else matters (duration, justification, reasons).</summary>
    public string? Details { get; private set; }

    public string? ClientAddress { get; private set; }

    public string? UserAgent { get; private set; }

    /// <summary>Ties together every event of one command or job run.</summary>
    public string? CorrelationId { get; private set; }

    /// <summary>
    /// The hash chain through this event (SHA-256 of the previous event's chain hash and this event's content), set
    /// once when the event is sealed into a checkpoint and never changed after; null until then. See
    /// the audit chain (<c>Audit/AuditChain.cs</c>).
    /// </summary>
#pragma warning disable CA1819 // A hash is bytes; EF maps the array as it is.
    public byte[]? ChainHash { get; private set; }
#pragma warning restore CA1819

    /// <summary>An event as it was recorded (read back from an archive file, or made by the benchmarks' generator).</summary>
    internal static AuditEvent Restore(
        long id, DateTimeOffset occurredAt, Guid? actorId, string actorName, string action, string targetType, string targetId,
        AuditOutcome outcome, string? details, Guid? subjectId, Guid? roleId, string? clientAddress, string? userAgent, string? correlationId,
        byte[]? chainHash)
    {
        var restored = new AuditEvent(occurredAt, actorId, actorName, action, targetType, targetId, outcome, details, subjectId, roleId)
        {
            Id = id,
            ClientAddress = clientAddress,
            UserAgent = userAgent,
            CorrelationId = correlationId,
            ChainHash = chainHash,
        };
        return restored;
    }

    public AuditEvent From(string? clientAddress, string? userAgent, string? correlationId)
    {
        ClientAddress = clientAddress;
        UserAgent = userAgent is { Length: > 512 } ? userAgent[..512] : userAgent;
        CorrelationId = correlationId;
        return this;
    }
}

/// <summary>How the recorded action ended.</summary>
public enum AuditOutcome
{
    /// <summary>The change was made.</summary>
    Success,

    /// <summary>The portal refused it (policy, authorization, bad input); nothing changed.</summary>
    Refused,

    /// <summary>It was attempted and failed (e.g. the directory refused the grant).</summary>
    Failed,
}

/// <summary>The names of audited actions.</summary>
public static class AuditActions
{
    /// <summary>Every action the portal writes, for the audit filter.</summary>
    public static readonly IReadOnlyList<string> All = [.. typeof(AuditActions).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal)];

    public const string ActivationRequested = "activation.requested";
    public const string ActivationRefused = "activation.refused";
    public const string ActivationProvisioned = "activation.provisioned";
    public const string ActivationProvisioningFailed = "activation.provisioning-failed";
    public const string ActivationGranted = "activation.granted";
    public const string ActivationDeactivated = "activation.deactivated";
    public const string ActivationRevoked = "activation.revoked";
    public const string ActivationExpired = "activation.expired";
    public const string ActivationExtended = "activation.extended";
    public const string ActivationRemovedFromDirectory = "activation.removed-from-directory";
    public const string RequestCancelled = "request.cancelled";
    public const string RequestExpired = "request.expired";
    public const string RequestApproved = "request.approved";
    public const string RequestDenied = "request.denied";
    public const string RequestLapsed = "request.lapsed";
    public const string RequestStarted = "request.started";
    public const string ApprovalGiven = "approval.approved";
    public const string ApprovalDenied = "approval.denied";
    public const string ApprovalRefused = "approval.refused";
    public const string NotificationMailed = "notification.mailed";
    public const string NotificationMailFailed = "notification.mail-failed";
    public const string MfaVerified = "mfa.verified";
    public const string MfaFailed = "mfa.failed";
    public const string MfaRateLimited = "mfa.rate-limited";
    public const string StepUpStarted = "mfa.step-up-started";
    public const string StepUpVerified = "mfa.step-up-verified";
    public const string PrincipalProvisioned = "principal.provisioned";
    public const string DriftDetected = "drift.detected";
    public const string PrincipalDisabled = "principal.disabled";
    public const string PrincipalEnabled = "principal.enabled";
    public const string CredentialsReset = "principal.credentials-reset";
    public const string GroupMemberAdded = "group.member-added";
    public const string GroupMemberRemoved = "group.member-removed";
    public const string DriftResolved = "drift.resolved";
    public const string DriftConverted = "drift.converted";

    /// <summary>Written by versions before standing removals went through the outbox; kept for the trail they wrote.</summary>
    public const string DriftConversionFailed = "drift.conversion-failed";
    public const string StandingRemoved = "directory.standing-removed";
    public const string StandingRemovalFailed = "directory.standing-removal-failed";
    public const string EligibilityCreated = "eligibility.created";
    public const string EligibilityRemoved = "eligibility.removed";
    public const string EligibilityExtended = "eligibility.extended";
    public const string EligibilityRenewed = "eligibility.renewed";
    public const string EligibilityEndingNotice = "eligibility.ending-notice";
    public const string EligibilityEnded = "eligibility.ended";
    public const string ActiveAssigned = "assignment.created";
    public const string ActiveAssignmentRemoved = "assignment.removed";
    public const string RoleSettingsChanged = "role.settings-changed";
    public const string BreakGlassMarked = "principal.break-glass-marked";
    public const string BreakGlassUnmarked = "principal.break-glass-unmarked";
    public const string AlertRaised = "alert.raised";
    public const string AlertResolved = "alert.resolved";
    public const string AlertDismissed = "alert.dismissed";
    public const string RolloutConverted = "rollout.converted";
    public const string SignInSucceeded = "signin.succeeded";
    public const string DirectorySignIn = "signin.in-directory";
    public const string SignInFailed = "signin.failed";
    public const string SignInRateLimited = "signin.rate-limited";
    public const string SignedOut = "signin.signed-out";
    public const string DemoSeeded = "system.demo-seeded";
    public const string AuditExported = "audit.exported";
    public const string AuditVerified = "audit.verified";
    public const string AuditDigestExported = "audit.digest-exported";
    public const string AuditPruned = "audit.pruned";
    public const string ReviewCreated = "review.created";
    public const string ReviewStopped = "review.stopped";
    public const string ReviewOpened = "review.opened";
    public const string ReviewMissed = "review.missed";
    public const string ReviewReminded = "review.reminded";
    public const string ReviewDecided = "review.decided";
    public const string ReviewCompleted = "review.completed";
    public const string ReviewApplyRequested = "review.apply-requested";
    public const string ReviewApplied = "review.applied";
    public const string ReviewReportExported = "review.report-exported";
}
