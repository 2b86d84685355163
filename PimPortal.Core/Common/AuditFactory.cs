using PimPortal.Core.Domain;

namespace PimPortal.Core;

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
