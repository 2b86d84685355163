using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// One unit of work of the lifecycle: the context whose one SaveChanges commits what the operations stage, who acts
/// (and from where), the moment, and what to announce once it has committed. A handler begins one for its request's
/// actor (<see cref="LifecycleContextExtensions.Begin"/>), a worker as the portal itself (<see cref="System"/>); the
/// caller saves, then hands <see cref="Announce"/> to the <see cref="Announcer"/>.
/// </summary>
public sealed class LifecycleContext(PimDbContext db, Actor actor, ClientInfo client, DateTimeOffset now)
{
    private LifecycleContext(PimDbContext db, Actor actor, ClientInfo client, DateTimeOffset now, Announcements announce)
        : this(db, actor, client, now) => Announce = announce;

    public PimDbContext Db => db;

    public Actor Actor => actor;

    public ClientInfo Client => client;

    public DateTimeOffset Now => now;

    /// <summary>The principal who acts, or null for the portal itself (as "by" on the entities).</summary>
    public Guid? By => actor.IsSystem ? null : actor.PrincipalId;

    public Announcements Announce { get; } = new();

    /// <summary>Work the portal does on its own (a worker's pass).</summary>
    public static LifecycleContext System(PimDbContext db, DateTimeOffset now) => new(db, Actor.System, ClientInfo.Unknown, now);

    /// <summary>
    /// The same unit of work (and announcements) in another's name or from another client: what an administrator asked
    /// for and a worker does later is audited as theirs; a sign-in read from the directory's log, from its address.
    /// </summary>
    public LifecycleContext As(Actor other, ClientInfo? from = null) => new(db, other, from ?? ClientInfo.Unknown, now, Announce);

    /// <summary>Stages an audit event by this actor, at this moment, from this client.</summary>
    public AuditEvent Audit(string action, string targetType, string targetId, AuditOutcome outcome, object? details = null, Guid? subjectId = null, Guid? roleId = null)
    {
        var audit = AuditEventOf(action, targetType, targetId, outcome, details, subjectId, roleId);
        db.AuditEvents.Add(audit);
        return audit;
    }

    /// <summary>An audit event by this actor, at this moment, from this client, not staged (for a bulk write).</summary>
    public AuditEvent AuditEventOf(string action, string targetType, string targetId, AuditOutcome outcome, object? details = null, Guid? subjectId = null, Guid? roleId = null) =>
        AuditFactory.Create(actor, client, now, action, targetType, targetId, outcome, details, subjectId, roleId);
}

/// <summary>Begins a unit of work for the verified actor of a command.</summary>
public static class LifecycleContextExtensions
{
    public static LifecycleContext Begin(this RequestContext context, PimDbContext db, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new LifecycleContext(db, context.Actor, context.Client, now);
    }
}
