using System.Security.Claims;
using PimPortal.Core.Domain;

namespace PimPortal.Core;

/// <summary>The portal permissions (app roles in Entra, Identity roles in the embedded default).</summary>
public static class PortalPermissions
{
    public const string PimAdministrator = "PimAdministrator";
    public const string GovernanceLead = "GovernanceLead";
    public const string Auditor = "Auditor";

    public static readonly IReadOnlyList<string> All = [PimAdministrator, GovernanceLead, Auditor];
}

/// <summary>
/// Who is acting: an enabled principal of the directory, with the portal permissions they hold, in one sign-in
/// session (<see cref="SessionId"/>; null when the host knows none).
/// </summary>
public sealed record Actor(Guid PrincipalId, string DisplayName, IReadOnlySet<string> Permissions, string? SessionId = null)
{
    /// <summary>The portal itself (workers), for audit events nobody in particular caused.</summary>
    public static readonly Actor System = new(Guid.Empty, "PimPortal", new HashSet<string>());

    public bool IsSystem => PrincipalId == Guid.Empty;

    public bool Has(string permission) => Permissions.Contains(permission);
}

/// <summary>Where a request came from, as far as the host knows.</summary>
public sealed record ClientInfo(string? Address, string? UserAgent)
{
    public static readonly ClientInfo Unknown = new(null, null);
}

/// <summary>
/// The signed-in user as the host sees it: in a Blazor circuit from the authentication state, in an HTTP request
/// from the request's user. The web host implements it; Core never reads HTTP itself.
/// </summary>
public interface ICurrentUser
{
    Task<ClaimsPrincipal> GetUserAsync();

    ClientInfo Client { get; }
}

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

/// <summary>Builds audit events with the correlation id of the current command or job run.</summary>
public static class AuditFactory
{
    // Details are data, escaped wherever they are shown; relaxed escaping keeps them readable (' stays ').
    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static AuditEvent Create(
        Actor actor, ClientInfo client, DateTimeOffset now, string action, string targetType, string targetId,
        AuditOutcome outcome, object? details = null, Guid? subjectId = null, Guid? roleId = null)
    {
        var json = details is null ? null : System.Text.Json.JsonSerializer.Serialize(details, JsonOptions);
        return new AuditEvent(now, actor.IsSystem ? null : actor.PrincipalId, actor.DisplayName, action, targetType, targetId, outcome, json, subjectId, roleId)
            .From(client.Address, client.UserAgent, Correlation.Current);
    }
}

/// <summary>The correlation id of the command or job run in progress (flows with the async context).</summary>
public static class Correlation
{
    private static readonly AsyncLocal<string?> Value = new();

    public static string? Current => Value.Value;

    /// <summary>Starts a correlation scope unless one is already open; dispose to close it.</summary>
    public static IDisposable Begin()
    {
        if (Value.Value is not null)
        {
            return NoScope.Instance;
        }

        Value.Value = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? Guid.NewGuid().ToString("N");
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        public void Dispose() => Value.Value = null;
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}

/// <summary>Reads the directory object id and display name from a signed-in user's claims.</summary>
public static class ClaimsPrincipalExtensions
{
    /// <summary>Entra's object id claim.</summary>
    public const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";

    /// <summary>The sign-in session claim: the portal's own in the embedded default, Entra's "sid" in production.</summary>
    public const string SessionClaim = "pim:sid";

    public static string? GetSessionId(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(SessionClaim) ?? user.FindFirstValue("sid");
    }

    public static Guid? GetPrincipalId(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var value = user.FindFirstValue(ObjectIdClaim) ?? user.FindFirstValue("oid") ?? user.FindFirstValue(ClaimTypes.NameIdentifier);
        return Guid.TryParse(value, out var id) ? id : null;
    }
}
