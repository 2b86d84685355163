using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.ResourceManager;

namespace PimPortal.Core.Directory.Graph;

/// <summary>
/// Azure resource roles through Azure Resource Manager's <c>roleAssignmentScheduleRequests</c> (api-version
/// 2020-10-01). Each request is PUT under a name derived from the grant and the change — a client-chosen id — so a
/// retry of the same change is the same request, which ARM does not carry out twice.
/// </summary>
public sealed class ArmRoleWriter
{
    public const string ApiVersion = "2020-10-01";
    private const string AssignmentsApiVersion = "2022-04-01";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    public ArmRoleWriter(GraphDirectoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoint = options.ArmUrl;

        // The SDK's retries are off: throttling goes back to the outbox with Retry-After, ambiguity is read back.
        var client = new ArmClientOptions();
        client.Retry.MaxRetries = 0;
        client.Retry.NetworkTimeout = options.Timeout;
        _pipeline = string.IsNullOrEmpty(options.ClientId)
            ? HttpPipelineBuilder.Build(client)
            : HttpPipelineBuilder.Build(client, new BearerTokenAuthenticationPolicy(
                new ClientSecretCredential(options.TenantId, options.ClientId, options.ClientSecret), $"{_endpoint.GetLeftPart(UriPartial.Authority)}/.default"));
    }

    /// <summary>The request's name: the same grant, change and end always give the same one.</summary>
    public static Guid RequestName(DirectoryChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var key = $"{change.Grant.ActivationId:N}:{change.Kind}:{(change.Kind == DirectoryChangeKind.Extend ? change.Grant.NotAfter.UtcTicks : 0)}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16));
    }

    /// <summary>Sends the change; returns ARM's status, error code and message, and Retry-After.</summary>
    public async Task<ArmAnswer> SendAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var grant = change.Grant;
        var properties = new JsonObject
        {
            ["principalId"] = grant.PrincipalId.ToString(),
            ["roleDefinitionId"] = RoleDefinitionId(grant),
            ["requestType"] = change.Kind switch
            {
                DirectoryChangeKind.Assign => "AdminAssign",
                DirectoryChangeKind.Extend => "AdminExtend",
                _ => "AdminRemove",
            },
            ["justification"] = $"PimPortal activation {grant.ActivationId}",
        };
        if (change.Kind != DirectoryChangeKind.Remove)
        {
            properties["scheduleInfo"] = new JsonObject
            {
                ["startDateTime"] = grant.NotBefore.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["expiration"] = grant.IsPermanent
                    ? new JsonObject { ["type"] = "NoExpiration" }
                    : new JsonObject
                    {
                        ["type"] = "AfterDateTime",
                        ["endDateTime"] = grant.NotAfter.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                    },
            };
        }

        var body = new JsonObject { ["properties"] = properties };
        return await SendAsync(RequestMethod.Put, RequestPath(change), body, cancellationToken);
    }

    /// <summary>ARM's answer to this change's request, read back by its name (after an ambiguous answer); null when ARM never got it.</summary>
    public async Task<ArmAnswer?> ReadRequestAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(RequestMethod.Get, RequestPath(change), null, cancellationToken);
        return answer.Status == 200 ? answer
            : answer.Status == 404 ? null
            : throw new HttpRequestException($"Reading the request back failed: {answer.Status} {answer.Code}");
    }

    /// <summary>Whether the principal holds the role at the grant's scope now.</summary>
    public async Task<bool> IsAssignedAsync(DirectoryGrant grant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var answer = await SendAsync(RequestMethod.Get,
            $"{grant.Scope}/providers/Microsoft.Authorization/roleAssignments?api-version={AssignmentsApiVersion}&$filter={Uri.EscapeDataString($"principalId eq '{grant.PrincipalId}'")}",
            null, cancellationToken);
        if (answer.Status != 200 || answer.Body is null)
        {
            throw new HttpRequestException($"Listing role assignments failed: {answer.Status} {answer.Code}");
        }

        // ARM lists assignments at, above and below the scope: only one at exactly this scope counts.
        var definition = RoleDefinitionId(grant);
        return answer.Body["value"]?.AsArray().Any(a =>
            string.Equals(a?["properties"]?["roleDefinitionId"]?.GetValue<string>(), definition, StringComparison.OrdinalIgnoreCase)
            && string.Equals(a?["properties"]?["scope"]?.GetValue<string>(), grant.Scope, StringComparison.OrdinalIgnoreCase)) == true;
    }

    /// <summary>Who holds roles at <paramref name="scope"/>: (principal id, role definition guid).</summary>
    public async Task<IReadOnlyList<(Guid Principal, string RoleDefinition)>> ListAsync(string scope, CancellationToken cancellationToken)
    {
        var found = new List<(Guid, string)>();
        string? next = $"{scope}/providers/Microsoft.Authorization/roleAssignments?api-version={AssignmentsApiVersion}";
        while (next is not null)
        {
            var answer = await SendAsync(RequestMethod.Get, next, null, cancellationToken);
            if (answer.Status != 200 || answer.Body is null)
            {
                throw new HttpRequestException($"Listing role assignments failed: {answer.Status} {answer.Code}");
            }

            // Only assignments at exactly this scope (ARM lists inherited and child ones too).
            found.AddRange((answer.Body["value"]?.AsArray() ?? [])
                .Select(a => (Principal: a?["properties"]?["principalId"]?.GetValue<string>(), Definition: a?["properties"]?["roleDefinitionId"]?.GetValue<string>(),
                    Scope: a?["properties"]?["scope"]?.GetValue<string>()))
                .Where(a => Guid.TryParse(a.Principal, out _) && a.Definition is not null && string.Equals(a.Scope, scope, StringComparison.OrdinalIgnoreCase))
                .Select(a => (Guid.Parse(a.Principal!), a.Definition![(a.Definition!.LastIndexOf('/') + 1)..])));
            next = answer.Body["nextLink"]?.GetValue<string>() is { } link ? new Uri(link).PathAndQuery : null;
        }

        return found;
    }

    /// <summary>ARM's full role definition id: /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}.</summary>
    public static string RoleDefinitionId(DirectoryGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var parts = grant.Scope.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var subscription = parts.Length >= 2 && parts[0].Equals("subscriptions", StringComparison.OrdinalIgnoreCase) ? $"/subscriptions/{parts[1]}" : "";
        return $"{subscription}/providers/Microsoft.Authorization/roleDefinitions/{grant.RoleExternalId}";
    }

    private static string RequestPath(DirectoryChange change) =>
        $"{change.Grant.Scope}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/{RequestName(change)}?api-version={ApiVersion}";

    private async Task<ArmAnswer> SendAsync(RequestMethod method, string pathAndQuery, JsonObject? body, CancellationToken cancellationToken)
    {
        using var message = _pipeline.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(new Uri(_endpoint, pathAndQuery));
        if (body is not null)
        {
            message.Request.Headers.Add("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }

        await _pipeline.SendAsync(message, cancellationToken);
        var response = message.Response;
        JsonObject? json = null;
        if (response.Content is { } content && content.ToMemory().Length > 0)
        {
            try
            {
                json = JsonNode.Parse(content.ToString())?.AsObject();
            }
            catch (JsonException)
            {
                json = null;
            }
        }

        TimeSpan? retryAfter = response.Headers.TryGetValue("Retry-After", out var value) && int.TryParse(value, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
        return new ArmAnswer(response.Status, json?["error"]?["code"]?.GetValue<string>(), json?["error"]?["message"]?.GetValue<string>(), retryAfter, json);
    }
}

/// <summary>What ARM answered.</summary>
public sealed record ArmAnswer(int Status, string? Code, string? Message, TimeSpan? RetryAfter, JsonObject? Body)
{
    /// <summary>Request states in which ARM did not (and will not) carry the request out.</summary>
    private static readonly HashSet<string> FailedStates = new(StringComparer.OrdinalIgnoreCase)
    {
        "Failed", "Denied", "Canceled", "AdminDenied", "Invalid", "TimedOut", "FailedAsResourceIsLocked", "Revoked_Failed",
    };

    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The request's state when ARM accepted the call but not the change (e.g. Failed, Denied), else null.</summary>
    public string? FailedState => Body?["properties"]?["status"]?.GetValue<string>() is { } state && FailedStates.Contains(state) ? state : null;

    public bool IsAmbiguous => Status is (int)HttpStatusCode.InternalServerError or (int)HttpStatusCode.BadGateway or (int)HttpStatusCode.ServiceUnavailable or (int)HttpStatusCode.GatewayTimeout;
}
