using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PimPortal.GraphStub;

/// <summary>
/// A stateful stand-in for the parts of Microsoft Graph v1.0 the portal uses, on 127.0.0.1 and a free port: directory
/// role assignments (direct, and PIM schedule requests), group members, and PIM for Groups assignment schedule
/// requests. It answers as Graph does (status codes, error codes, OData shapes), keeps every request it was sent, and
/// can be told to misbehave: throttle with Retry-After, fail after committing, add latency.
/// </summary>
public sealed partial class GraphStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly List<RoleAssignment> _assignments = [];
    private readonly Dictionary<string, HashSet<string>> _members = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<Fault> _faults = new();
    private readonly List<ArmAssignment> _armAssignments = [];
    private readonly Dictionary<string, User> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _armRequests = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly List<SignIn> _signIns = [];

    private GraphStub(WebApplication app)
    {
        _app = app;
    }

    /// <summary>Where Graph v1.0 is, e.g. http://127.0.0.1:41234/v1.0.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Added before every answer (a slow network or a slow Graph).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Every request received, in order.</summary>
    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>
    /// The share (0 to 1) of write requests answered 429 with Retry-After (<see cref="ThrottleRetryAfterSeconds"/>),
    /// decided at random per request.
    /// </summary>
    public double ThrottleShare { get; set; }

    public int ThrottleRetryAfterSeconds { get; set; } = 1;

    /// <summary>When set, ARM takes schedule requests but leaves them in this state (e.g. Failed) without carrying them out.</summary>
    public string? ArmRequestState { get; set; }

    /// <summary>How many assignments (direct, scheduled or group memberships) the stub has created.</summary>
    public int Created => _created;

    /// <summary>How many requests it answered 429 on its own (<see cref="ThrottleShare"/>).</summary>
    public int Throttled => _throttled;

    private int _created;
    private int _throttled;

    public static async Task<GraphStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var stub = new GraphStub(app);
        stub.Map(app);
        stub.MapArm(app);
        stub.MapUsers(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        stub.BaseUrl = new Uri($"{address.TrimEnd('/')}/v1.0");
        return stub;
    }

    /// <summary>The next request matching <paramref name="method"/> and <paramref name="pathContains"/> gets this fault.</summary>
    public void FailNext(string method, string pathContains, int status, string? code = null, string? message = null, int? retryAfterSeconds = null, bool afterCommitting = false, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _faults.Enqueue(new Fault(method, pathContains, status, code, message, retryAfterSeconds, afterCommitting));
        }
    }

    /// <summary>
    /// The next request matching <paramref name="method"/> and <paramref name="pathContains"/> is never answered (the
    /// caller's own timeout must end it) — after doing its work, when <paramref name="afterCommitting"/>.
    /// </summary>
    public void HangNext(string method, string pathContains, bool afterCommitting = false) =>
        _faults.Enqueue(new Fault(method, pathContains, 0, null, null, null, afterCommitting, FaultMode.Hang));

    /// <summary>
    /// The next request matching <paramref name="method"/> and <paramref name="pathContains"/> has its connection reset
    /// instead of an answer — after doing its work, when <paramref name="afterCommitting"/>.
    /// </summary>
    public void ResetNext(string method, string pathContains, bool afterCommitting = false) =>
        _faults.Enqueue(new Fault(method, pathContains, 0, null, null, null, afterCommitting, FaultMode.Reset));

    /// <summary>Who holds which directory role now (principal id, role definition id, scope).</summary>
    public IReadOnlyList<(string PrincipalId, string RoleDefinitionId, string Scope)> RoleAssignments()
    {
        lock (_gate)
        {
            return [.. _assignments.Select(a => (a.PrincipalId, a.RoleDefinitionId, a.DirectoryScopeId))];
        }
    }

    /// <summary>Azure role assignments (scope, principal id, role definition id) held through ARM.</summary>
    public IReadOnlyList<(string Scope, string PrincipalId, string RoleDefinitionId)> AzureRoleAssignments()
    {
        lock (_gate)
        {
            return [.. _armAssignments.Select(a => (a.Scope, a.PrincipalId, a.RoleDefinitionId))];
        }
    }

    /// <summary>Where Azure Resource Manager is (the same server, paths under /subscriptions).</summary>
    public Uri ArmUrl => new(BaseUrl.GetLeftPart(UriPartial.Authority));

    public IReadOnlyList<string> MembersOf(string groupId)
    {
        lock (_gate)
        {
            return _members.TryGetValue(groupId, out var members) ? [.. members] : [];
        }
    }

    /// <summary>A user of the tenant, as Graph's /users/{id} shows it (with $expand=manager).</summary>
    public void SetUser(string id, string displayName, string userPrincipalName, bool accountEnabled = true, string? managerId = null)
    {
        lock (_gate)
        {
            // Entra gives every user a last password change (at the latest, when the account was made).
            var passwordChanged = _users.TryGetValue(id, out var known) ? known.LastPasswordChange : AccountsCreated;
            _users[id] = new User(id, displayName, userPrincipalName, accountEnabled, managerId, passwordChanged, known?.SessionsValidFrom);
        }
    }

    /// <summary>When the tenant's users were made, as their first <c>lastPasswordChangeDateTime</c>.</summary>
    public static readonly DateTimeOffset AccountsCreated = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// An administrator resets the user's password in Entra at <paramref name="at"/> (and, with
    /// <paramref name="revokeSessions"/>, revokes its sign-in sessions, as the reset in the Entra admin center does).
    /// </summary>
    public void ResetPassword(string id, DateTimeOffset at, bool revokeSessions = true)
    {
        lock (_gate)
        {
            var user = _users[id];
            _users[id] = user with { LastPasswordChange = at.ToUniversalTime(), SessionsValidFrom = revokeSessions ? at.ToUniversalTime() : user.SessionsValidFrom };
        }
    }

    /// <summary>Makes <paramref name="memberId"/> a member of <paramref name="groupId"/> (as an administrator would in Entra).</summary>
    /// <summary>Adds a sign-in to the tenant's sign-in log (read with GET /auditLogs/signIns); <paramref name="errorCode"/> 0 is a success.</summary>
    public void AddSignIn(string userId, DateTimeOffset at, string application, string ipAddress, int errorCode = 0)
    {
        lock (_gate)
        {
            _signIns.Add(new SignIn(Guid.NewGuid().ToString(), userId, at.ToUniversalTime(), application, ipAddress, errorCode));
        }
    }

    public void AddMember(string groupId, string memberId)
    {
        lock (_gate)
        {
            Members(groupId).Add(memberId);
        }
    }

    /// <summary>Adds an assignment made outside the portal (a standing one).</summary>
    public void AddRoleAssignment(string principalId, string roleDefinitionId, string scope = "/")
    {
        lock (_gate)
        {
            _assignments.Add(new RoleAssignment(Guid.NewGuid().ToString(), principalId, roleDefinitionId, scope, null));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            string? body = null;
            if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            {
                using var reader = new StreamReader(context.Request.Body, leaveOpen: true);
                body = await reader.ReadToEndAsync();
                context.Request.Body.Position = 0;
            }

            _requests.Enqueue(new RecordedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString, body));
            if (Latency > TimeSpan.Zero)
            {
                await Task.Delay(Latency);
            }

            var fault = TakeFault(context.Request.Method, context.Request.Path);
            if (fault is { AfterCommitting: false })
            {
                await FaultAsync(context, fault, "Fault", "Injected by the test.");
                return;
            }

            if (fault is null && ThrottleShare > 0 && context.Request.Method != "GET" && Random.Shared.NextDouble() < ThrottleShare)
            {
                Interlocked.Increment(ref _throttled);
                await WriteErrorAsync(context, 429, "TooManyRequests", "Too many requests.", ThrottleRetryAfterSeconds);
                return;
            }

            if (fault is { AfterCommitting: true })
            {
                // Do the work, then answer as if it failed: the caller cannot know it happened.
                var buffer = new MemoryStream();
                var original = context.Response.Body;
                context.Response.Body = buffer;
                await next(context);
                context.Response.Body = original;
                context.Response.Clear();
                await FaultAsync(context, fault, "ServiceUnavailable", "Injected after committing.");
                return;
            }

            await next(context);
        });

        app.MapPost("/v1.0/roleManagement/directory/roleAssignments", async context =>
        {
            var body = await ReadAsync(context);
            var principalId = body["principalId"]?.GetValue<string>() ?? "";
            var roleDefinitionId = body["roleDefinitionId"]?.GetValue<string>() ?? "";
            var scope = body["directoryScopeId"]?.GetValue<string>() ?? "/";
            RoleAssignment created;
            lock (_gate)
            {
                if (_assignments.Exists(a => a.Matches(principalId, roleDefinitionId, scope)))
                {
                    created = null!;
                }
                else
                {
                    created = new RoleAssignment(Guid.NewGuid().ToString(), principalId, roleDefinitionId, scope, null);
                    _assignments.Add(created);
                    _created++;
                }
            }

            if (created is null)
            {
                await WriteErrorAsync(context, 400, "Request_BadRequest", "A conflicting object with one or more of the specified property values is present in the directory.");
                return;
            }

            await WriteJsonAsync(context, 201, Assignment(created));
        });

        app.MapGet("/v1.0/roleManagement/directory/roleAssignments", async context =>
        {
            var filter = context.Request.Query["$filter"].ToString();
            var principal = FilterValue(filter, "principalId");
            var role = FilterValue(filter, "roleDefinitionId");
            List<RoleAssignment> found;
            lock (_gate)
            {
                found = [.. _assignments.Where(a => (principal is null || a.PrincipalId == principal) && (role is null || a.RoleDefinitionId == role))];
            }

            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments",
                ["value"] = new JsonArray([.. found.Select(Assignment)]),
            });
        });

        app.MapDelete("/v1.0/roleManagement/directory/roleAssignments/{id}", async (HttpContext context, string id) =>
        {
            bool removed;
            lock (_gate)
            {
                removed = _assignments.RemoveAll(a => a.Id == id) > 0;
            }

            if (!removed)
            {
                await WriteErrorAsync(context, 404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
                return;
            }

            context.Response.StatusCode = 204;
        });

        app.MapPost("/v1.0/roleManagement/directory/roleAssignmentScheduleRequests", async context =>
        {
            var body = await ReadAsync(context);
            var action = body["action"]?.GetValue<string>() ?? "";
            var principalId = body["principalId"]?.GetValue<string>() ?? "";
            var roleDefinitionId = body["roleDefinitionId"]?.GetValue<string>() ?? "";
            var scope = body["directoryScopeId"]?.GetValue<string>() ?? "/";
            var end = body["scheduleInfo"]?["expiration"]?["endDateTime"]?.GetValue<string>();
            string? error = null;
            lock (_gate)
            {
                var existing = _assignments.Find(a => a.Matches(principalId, roleDefinitionId, scope));
                switch (action)
                {
                    case "adminAssign" when existing is not null:
                        error = "RoleAssignmentExists";
                        break;
                    case "adminAssign":
                        _assignments.Add(new RoleAssignment(Guid.NewGuid().ToString(), principalId, roleDefinitionId, scope, end));
                        _created++;
                        break;
                    case "adminExtend" or "adminUpdate" when existing is null:
                    case "adminRemove" when existing is null:
                        error = "RoleAssignmentDoesNotExist";
                        break;
                    case "adminExtend" or "adminUpdate":
                        _assignments[_assignments.IndexOf(existing!)] = existing! with { EndDateTime = end };
                        break;
                    case "adminRemove":
                        _assignments.Remove(existing!);
                        break;
                    default:
                        error = "InvalidAction";
                        break;
                }
            }

            if (error is not null)
            {
                await WriteErrorAsync(context, 400, error, error == "RoleAssignmentExists" ? "The Role assignment already exists." : $"The request failed: {error}.");
                return;
            }

            body["id"] = Guid.NewGuid().ToString();
            body["status"] = action == "adminRemove" ? "Revoked" : "Provisioned";
            await WriteJsonAsync(context, 201, body);
        });

        app.MapPost("/v1.0/groups/{groupId}/members/$ref", async (HttpContext context, string groupId) =>
        {
            var body = await ReadAsync(context);
            var member = (body["@odata.id"]?.GetValue<string>() ?? "").Split('/').Last();
            bool added;
            lock (_gate)
            {
                added = Members(groupId).Add(member);
                _created += added ? 1 : 0;
            }

            if (!added)
            {
                await WriteErrorAsync(context, 400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'members'.");
                return;
            }

            context.Response.StatusCode = 204;
        });

        app.MapDelete("/v1.0/groups/{groupId}/members/{memberId}/$ref", async (HttpContext context, string groupId, string memberId) =>
        {
            bool removed;
            lock (_gate)
            {
                removed = Members(groupId).Remove(memberId);
            }

            if (!removed)
            {
                await WriteErrorAsync(context, 404, "Request_ResourceNotFound", $"Resource '{memberId}' does not exist or one of its queried reference-property objects are not present.");
                return;
            }

            context.Response.StatusCode = 204;
        });

        app.MapGet("/v1.0/groups/{groupId}/members", async (HttpContext context, string groupId) =>
        {
            var id = FilterValue(context.Request.Query["$filter"].ToString(), "id");
            List<string> members;
            lock (_gate)
            {
                members = [.. Members(groupId).Where(m => id is null || m == id)];
            }

            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
                ["value"] = new JsonArray([.. members.Select(m => (JsonNode)new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = m })]),
            });
        });

        app.MapPost("/v1.0/identityGovernance/privilegedAccess/group/assignmentScheduleRequests", async context =>
        {
            var body = await ReadAsync(context);
            var action = body["action"]?.GetValue<string>() ?? "";
            var groupId = body["groupId"]?.GetValue<string>() ?? "";
            var principalId = body["principalId"]?.GetValue<string>() ?? "";
            string? error = null;
            lock (_gate)
            {
                var members = Members(groupId);
                switch (action)
                {
                    case "adminAssign" when !members.Add(principalId):
                        error = "RoleAssignmentExists";
                        break;
                    case "adminAssign":
                        _created++;
                        break;
                    case "adminRemove" when !members.Remove(principalId):
                    case "adminExtend" when !members.Contains(principalId):
                        error = "RoleAssignmentDoesNotExist";
                        break;
                    default:
                        break;
                }
            }

            if (error is not null)
            {
                await WriteErrorAsync(context, 400, error, $"The request failed: {error}.");
                return;
            }

            body["id"] = Guid.NewGuid().ToString();
            body["status"] = action == "adminRemove" ? "Revoked" : "Provisioned";
            await WriteJsonAsync(context, 201, body);
        });
    }

    private void MapUsers(WebApplication app)
    {
        // The sign-in log: $filter "userId eq '…' and createdDateTime gt …", newest first as Graph answers, $top pages
        // with a skip token.
        app.MapGet("/v1.0/auditLogs/signIns", async context =>
        {
            var filter = System.Text.RegularExpressions.Regex.Match(context.Request.Query["$filter"].ToString(), @"userId eq '([^']+)' and createdDateTime gt (\S+)");
            if (!filter.Success || !DateTimeOffset.TryParse(filter.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var after))
            {
                await WriteErrorAsync(context, 400, "BadRequest", "Invalid filter clause.");
                return;
            }

            var top = int.TryParse(context.Request.Query["$top"], out var t) ? t : 1000;
            var skip = int.TryParse(context.Request.Query["$skiptoken"], out var k) ? k : 0;
            List<SignIn> matching;
            lock (_gate)
            {
                matching = [.. _signIns.Where(x => string.Equals(x.UserId, filter.Groups[1].Value, StringComparison.OrdinalIgnoreCase) && x.At > after).OrderByDescending(x => x.At)];
            }

            var page = matching.Skip(skip).Take(top).ToList();
            var body = new JsonObject
            {
                ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
                ["value"] = new JsonArray([.. page.Select(x => (JsonNode)new JsonObject
                {
                    ["id"] = x.Id,
                    ["createdDateTime"] = x.At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                    ["userId"] = x.UserId,
                    ["appDisplayName"] = x.Application,
                    ["ipAddress"] = x.IpAddress,
                    ["status"] = new JsonObject { ["errorCode"] = x.ErrorCode },
                })]),
            };
            if (skip + top < matching.Count)
            {
                body["@odata.nextLink"] = $"{BaseUrl}/auditLogs/signIns?$filter={Uri.EscapeDataString(context.Request.Query["$filter"].ToString())}&$top={top}&$skiptoken={skip + top}";
            }

            await WriteJsonAsync(context, 200, body);
        });

        // The tenant itself: the portal's readiness probe reads it (a token and the cheapest read there is).
        app.MapGet("/v1.0/organization", async context => await WriteJsonAsync(context, 200, new JsonObject
        {
            ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#organization(id)",
            ["value"] = new JsonArray(new JsonObject { ["id"] = "00000000-0000-0000-0000-00000000c0de" }),
        }));

        app.MapGet("/v1.0/users/{id}", async (HttpContext context, string id) =>
        {
            User? user;
            lock (_gate)
            {
                _users.TryGetValue(id, out user);
            }

            if (user is null)
            {
                await WriteErrorAsync(context, 404, "Request_ResourceNotFound", $"Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
                return;
            }

            var body = new JsonObject
            {
                ["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName,userPrincipalName,accountEnabled,manager(id))/$entity",
                ["id"] = user.Id,
                ["displayName"] = user.DisplayName,
                ["userPrincipalName"] = user.UserPrincipalName,
                ["accountEnabled"] = user.AccountEnabled,
            };

            // As Graph: these two come only when $select names them.
            var select = context.Request.Query["$select"].ToString();
            if (select.Contains("lastPasswordChangeDateTime", StringComparison.OrdinalIgnoreCase))
            {
                body["lastPasswordChangeDateTime"] = user.LastPasswordChange?.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            }

            if (select.Contains("signInSessionsValidFromDateTime", StringComparison.OrdinalIgnoreCase))
            {
                body["signInSessionsValidFromDateTime"] = user.SessionsValidFrom?.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
            }

            if (context.Request.Query["$expand"].ToString().Contains("manager", StringComparison.OrdinalIgnoreCase) && user.ManagerId is { } manager)
            {
                body["manager"] = new JsonObject { ["@odata.type"] = "#microsoft.graph.user", ["id"] = manager };
            }

            await WriteJsonAsync(context, 200, body);
        });
    }

    private void MapArm(WebApplication app)
    {
        // Azure Resource Manager: role assignment schedule requests are PUT under a client-chosen name (a retry of the
        // same name returns what the first did), and role assignments are listed per scope.
        app.MapMethods("/subscriptions/{**rest}", ["GET", "PUT"], async (HttpContext context, string rest) =>
        {
            var path = "/subscriptions/" + rest;
            var marker = "/providers/Microsoft.Authorization/";
            var at = path.IndexOf(marker, StringComparison.OrdinalIgnoreCase);
            if (at < 0)
            {
                await WriteArmErrorAsync(context, 404, "ResourceNotFound", "Not an authorization resource.");
                return;
            }

            var scope = path[..at];
            var resource = path[(at + marker.Length)..].Split('/');
            if (context.Request.Method == "GET" && resource is ["roleAssignments"])
            {
                var principal = FilterValue(context.Request.Query["$filter"].ToString(), "principalId");
                List<ArmAssignment> found;
                lock (_gate)
                {
                    found = [.. _armAssignments.Where(a => a.Scope.Equals(scope, StringComparison.OrdinalIgnoreCase) && (principal is null || a.PrincipalId == principal))];
                }

                await WriteJsonAsync(context, 200, new JsonObject
                {
                    ["value"] = new JsonArray([.. found.Select(a => (JsonNode)new JsonObject
                    {
                        ["id"] = $"{a.Scope}/providers/Microsoft.Authorization/roleAssignments/{a.Id}",
                        ["name"] = a.Id,
                        ["type"] = "Microsoft.Authorization/roleAssignments",
                        ["properties"] = new JsonObject { ["principalId"] = a.PrincipalId, ["roleDefinitionId"] = a.RoleDefinitionId, ["scope"] = a.Scope },
                    })]),
                });
                return;
            }

            if (resource is not ["roleAssignmentScheduleRequests", var name])
            {
                await WriteArmErrorAsync(context, 404, "ResourceNotFound", "Not supported by the stub.");
                return;
            }

            if (context.Request.Method == "GET")
            {
                string? known;
                lock (_gate)
                {
                    _armRequests.TryGetValue(name, out known);
                }

                if (known is null)
                {
                    await WriteArmErrorAsync(context, 404, "RoleAssignmentScheduleRequestNotFound", $"The request {name} does not exist.");
                    return;
                }

                await WriteJsonAsync(context, 200, JsonNode.Parse(known)!);
                return;
            }

            var body = await ReadAsync(context);
            var properties = body["properties"]?.AsObject() ?? [];
            var type = properties["requestType"]?.GetValue<string>() ?? "";
            var principalId = properties["principalId"]?.GetValue<string>() ?? "";
            var roleDefinitionId = properties["roleDefinitionId"]?.GetValue<string>() ?? "";
            string? error = null;
            string? answer;
            lock (_gate)
            {
                if (_armRequests.TryGetValue(name, out answer))
                {
                    // The same request again: ARM answers with what it did the first time.
                }
                else if (ArmRequestState is { } state)
                {
                    properties["status"] = state;
                    body["name"] = name;
                    answer = body.ToJsonString();
                    _armRequests[name] = answer;
                }
                else
                {
                    var existing = _armAssignments.Find(a => a.Scope.Equals(scope, StringComparison.OrdinalIgnoreCase) && a.PrincipalId == principalId
                        && a.RoleDefinitionId.Equals(roleDefinitionId, StringComparison.OrdinalIgnoreCase));
                    switch (type)
                    {
                        case "AdminAssign" when existing is not null:
                            error = "RoleAssignmentExists";
                            break;
                        case "AdminAssign":
                            _armAssignments.Add(new ArmAssignment(Guid.NewGuid().ToString(), scope, principalId, roleDefinitionId));
                            _created++;
                            break;
                        case "AdminRemove" or "AdminExtend" when existing is null:
                            error = "RoleAssignmentDoesNotExist";
                            break;
                        case "AdminRemove":
                            _armAssignments.Remove(existing!);
                            break;
                        case "AdminExtend":
                            break;
                        default:
                            error = "InvalidRequestType";
                            break;
                    }

                    if (error is null)
                    {
                        properties["status"] = type == "AdminRemove" ? "Revoked" : "Provisioned";
                        body["id"] = path;
                        body["name"] = name;
                        body["type"] = "Microsoft.Authorization/RoleAssignmentScheduleRequests";
                        answer = body.ToJsonString();
                        _armRequests[name] = answer;
                    }
                }
            }

            if (error is not null)
            {
                await WriteArmErrorAsync(context, 400, error, $"The request failed: {error}.");
                return;
            }

            await WriteJsonAsync(context, 201, JsonNode.Parse(answer!)!);
        });
    }

    private static Task WriteArmErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteJsonAsync(context, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    private HashSet<string> Members(string groupId)
    {
        if (!_members.TryGetValue(groupId, out var members))
        {
            members = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            _members[groupId] = members;
        }

        return members;
    }

    private static async Task FaultAsync(HttpContext context, Fault fault, string code, string message)
    {
        switch (fault.Mode)
        {
            case FaultMode.Hang:
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    // The caller gave up (its timeout), or the stub stops.
                }

                return;
            case FaultMode.Reset:
                context.Abort();
                return;
            default:
                await WriteErrorAsync(context, fault.Status, fault.Code ?? code, fault.Message ?? message, fault.RetryAfterSeconds);
                return;
        }
    }

    private Fault? TakeFault(string method, string path)
    {
        // Faults are taken in order; one that does not match this request waits for its own.
        if (_faults.TryPeek(out var next) && string.Equals(next.Method, method, StringComparison.OrdinalIgnoreCase)
            && path.Contains(next.PathContains, StringComparison.OrdinalIgnoreCase) && _faults.TryDequeue(out var taken))
        {
            return taken;
        }

        return null;
    }

    private static string? FilterValue(string filter, string property)
    {
        var match = Regex.Match(filter, $@"\b{property}\s+eq\s+'([^']*)'", RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
        return match.Success ? match.Groups[1].Value : null;
    }

    private static JsonObject Assignment(RoleAssignment a) => new()
    {
        ["@odata.type"] = "#microsoft.graph.unifiedRoleAssignment",
        ["id"] = a.Id,
        ["principalId"] = a.PrincipalId,
        ["roleDefinitionId"] = a.RoleDefinitionId,
        ["directoryScopeId"] = a.DirectoryScopeId,
    };

    private static async Task<JsonObject> ReadAsync(HttpContext context) =>
        (await JsonNode.ParseAsync(context.Request.Body))?.AsObject() ?? [];

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message, int? retryAfterSeconds = null)
    {
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["code"] = code,
                ["message"] = message,
                ["innerError"] = new JsonObject { ["date"] = DateTimeOffset.UtcNow.ToString("s"), ["request-id"] = Guid.NewGuid().ToString() },
            },
        });
    }

    private sealed record RoleAssignment(string Id, string PrincipalId, string RoleDefinitionId, string DirectoryScopeId, string? EndDateTime)
    {
        public bool Matches(string principalId, string roleDefinitionId, string scope) =>
            string.Equals(PrincipalId, principalId, StringComparison.OrdinalIgnoreCase)
            && string.Equals(RoleDefinitionId, roleDefinitionId, StringComparison.OrdinalIgnoreCase)
            && DirectoryScopeId == scope;
    }

    private sealed record User(string Id, string DisplayName, string UserPrincipalName, bool AccountEnabled, string? ManagerId, DateTimeOffset? LastPasswordChange, DateTimeOffset? SessionsValidFrom);

    private sealed record SignIn(string Id, string UserId, DateTimeOffset At, string Application, string IpAddress, int ErrorCode);

    private sealed record ArmAssignment(string Id, string Scope, string PrincipalId, string RoleDefinitionId);

    private sealed record Fault(string Method, string PathContains, int Status, string? Code, string? Message, int? RetryAfterSeconds, bool AfterCommitting, FaultMode Mode = FaultMode.Answer);

    private enum FaultMode
    {
        Answer,
        Hang,
        Reset,
    }
}

/// <summary>One request the stub received.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string? Body)
{
    public JsonNode? Json => Body is null ? null : JsonNode.Parse(Body);
}
