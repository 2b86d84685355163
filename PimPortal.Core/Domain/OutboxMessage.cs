namespace PimPortal.Core.Domain;

/// <summary>
/// Work for the directory, recorded in the same transaction as the decision that needs it and performed after
/// commit by the outbox, with retries. <see cref="TargetId"/> — the grant, or the standing removal — is the
/// idempotency key: every directory write of the portal goes through here.
/// </summary>
public sealed class OutboxMessage
{
    private OutboxMessage()
    {
    }

    public OutboxMessage(Guid id, OutboxMessageType type, Guid targetId, DateTimeOffset now)
    {
        Id = id;
        Type = type;
        TargetId = targetId;
        CreatedAt = now;
        DueAt = now;
    }

    public Guid Id { get; private set; }

    public OutboxMessageType Type { get; private set; }

    /// <summary>What the message is about: the activation (grant messages) or the <see cref="StandingRemoval"/>.</summary>
    public Guid TargetId { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Not to be tried before this time (backoff after a failure).</summary>
    public DateTimeOffset DueAt { get; private set; }

    public int Attempts { get; private set; }

    /// <summary>A worker that claimed the message holds it until then; another may take it after.</summary>
    public DateTimeOffset? LockedUntil { get; private set; }

    public string? LockedBy { get; private set; }

    public DateTimeOffset? ProcessedAt { get; private set; }

    public string? LastError { get; private set; }

    public void Completed(DateTimeOffset now)
    {
        ProcessedAt = now;
        LockedUntil = null;
        LockedBy = null;
        LastError = null;
    }

    public void Failed(string error, DateTimeOffset retryAt)
    {
        Attempts++;
        LastError = error.Length > 2000 ? error[..2000] : error;
        DueAt = retryAt;
        LockedUntil = null;
        LockedBy = null;
    }

    /// <summary>Gives up after the last attempt; the message stays for the record.</summary>
    public void Abandoned(string error, DateTimeOffset now)
    {
        Attempts++;
        LastError = error.Length > 2000 ? error[..2000] : error;
        ProcessedAt = now;
        LockedUntil = null;
        LockedBy = null;
    }
}

/// <summary>What the outbox worker must do in the directory.</summary>
public enum OutboxMessageType
{
    /// <summary>Make the assignment of the activation exist.</summary>
    ProvisionGrant,

    /// <summary>Move the end of the assignment (where the directory enforces it).</summary>
    ExtendGrant,

    /// <summary>Make the assignment of the activation not exist.</summary>
    RemoveGrant,

    /// <summary>Make a standing assignment — one the portal did not grant — not exist (a <see cref="StandingRemoval"/>).</summary>
    RemoveStandingAssignment,
}
