using PimPortal.Core.Domain;

namespace PimPortal.Core;

/// <summary>
/// The verified actor of the message being handled, set by the authorization behaviour before any handler runs.
/// </summary>
public sealed class RequestContext
{
    private Actor? _actor;

    public Actor Actor => _actor ?? throw new InvalidOperationException("No actor: the message did not pass the authorization behaviour.");

    public ClientInfo Client { get; private set; } = ClientInfo.Unknown;

    internal void Set(Actor actor, ClientInfo client)
    {
        _actor = actor;
        Client = client;
    }

    /// <summary>An audit event by this actor, stamped with client, user agent and correlation id.</summary>
    public AuditEvent Audit(
        DateTimeOffset now, string action, string targetType, string targetId, AuditOutcome outcome,
        object? details = null, Guid? subjectId = null, Guid? roleId = null) =>
        AuditFactory.Create(Actor, Client, now, action, targetType, targetId, outcome, details, subjectId, roleId);
}
