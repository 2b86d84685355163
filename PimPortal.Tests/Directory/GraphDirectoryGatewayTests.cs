using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Directory;
using PimPortal.Core.Directory.Graph;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Directory;

/// <summary>The Graph gateway's resilience and its requests, against the stub through the real SDK.</summary>
public sealed class GraphDirectoryGatewayTests : IAsyncLifetime
{
    private static readonly DemoRole GlobalAdmin = DemoOrganisation.GlobalAdministrator;
    private static readonly DemoRole ProdDb = DemoOrganisation.ProdDbOperators;
    private TestApp? app;
    private GraphStub.GraphStub? stub;

    private TestApp App => app!;

    private GraphStub.GraphStub Stub => stub!;

    public async ValueTask InitializeAsync()
    {
        app = await TestApp.StartAsync(DatabaseKind.Sqlite);
        stub = await GraphStub.GraphStub.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Stub.DisposeAsync();
        await App.DisposeAsync();
    }

    [Fact]
    public async Task AThrottledWrite_ComesBackWithGraphsRetryAfter_AndIsNotRepeatedByTheClient()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        Stub.FailNext("POST", "roleAssignments", 429, "TooManyRequests", "Rate limit hit.", retryAfterSeconds: 7);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, Grant(GlobalAdmin));

        Assert.Equal((DirectoryChangeOutcome.RetryLater, TimeSpan.FromSeconds(7), true), (result.Outcome, result.RetryAfter, result.Throttled));
        Assert.Single(Stub.Requests, r => r.Method == "POST");
        Assert.Empty(Stub.RoleAssignments());
    }

    [Fact]
    public async Task A503AfterGraphCommitted_IsReadBack_AndCountsAsDone_WithoutASecondWrite()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        Stub.FailNext("POST", "roleAssignments", 503, "ServiceUnavailable", afterCommitting: true);
        var grant = Grant(GlobalAdmin);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal(DirectoryChangeOutcome.Done, result.Outcome);
        Assert.Single(Stub.RoleAssignments());
        Assert.Single(Stub.Requests, r => r.Method == "POST");
        Assert.Contains(Stub.Requests, r => r.Method == "GET" && r.PathAndQuery.Contains(grant.PrincipalId.ToString(), StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriteGraphDidNotCommit_A504OrNoAnswerUntilTheClientsTimeout_IsReadBack_AndRetriedLater_ThenDone(bool hangs)
    {
        var gateway = Stub.Gateway(App.Services, timeout: hangs ? TimeSpan.FromSeconds(1) : null);
        if (hangs)
        {
            Stub.HangNext("POST", "roleAssignments");
        }
        else
        {
            Stub.FailNext("POST", "roleAssignments", 504, "GatewayTimeout");
        }

        var grant = Grant(GlobalAdmin);

        var first = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);
        var second = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal((DirectoryChangeOutcome.RetryLater, DirectoryChangeOutcome.Done), (first.Outcome, second.Outcome));
        Assert.Contains("reading back showed it not done", first.Error, StringComparison.Ordinal);
        Assert.Single(Stub.RoleAssignments());
    }

    [Fact]
    public async Task RoleAssignmentExists_IsVerified_AndAccepted()
    {
        var gateway = Gateway(DirectoryRoleMode.PimSchedule);
        var grant = Grant(GlobalAdmin);
        Stub.AddRoleAssignment(grant.PrincipalId.ToString(), grant.RoleExternalId);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal(DirectoryChangeOutcome.Done, result.Outcome);
        Assert.Single(Stub.RoleAssignments());
    }

    [Fact]
    public async Task ARemovalRefusedAsTooEarly_IsRescheduled()
    {
        var gateway = Gateway(DirectoryRoleMode.PimSchedule);
        var grant = Grant(GlobalAdmin);
        await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);
        Stub.FailNext("POST", "roleAssignmentScheduleRequests", 400, "ActiveDurationTooShort", "Minimum duration of an active assignment is 5 minutes.");

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Remove, grant);

        Assert.Equal((DirectoryChangeOutcome.RetryLater, GraphDirectoryGateway.TooEarlyRetry, false), (result.Outcome, result.RetryAfter, result.Throttled));
        Assert.Single(Stub.RoleAssignments());
    }

    [Fact]
    public async Task AnAzureResourceRole_IsGrantedThroughArm_UnderAClientChosenName()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        var grant = Grant(DemoOrganisation.ContributorOnRgProd);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal(DirectoryChangeOutcome.Done, result.Outcome);
        var put = Assert.Single(Stub.Requests, r => r.Method == "PUT");
        Assert.Contains($"{grant.Scope}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/{ArmRoleWriter.RequestName(new DirectoryChange(DirectoryChangeKind.Assign, grant))}?api-version=2020-10-01",
            put.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal((grant.Scope, grant.PrincipalId.ToString(), ArmRoleWriter.RoleDefinitionId(grant)), Assert.Single(Stub.AzureRoleAssignments()));
    }

    [Fact]
    public async Task AnArmRequestRetriedAfterA503_IsTheSameRequest_AndGrantsOnce()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        var grant = Grant(DemoOrganisation.ContributorOnRgProd);
        Stub.FailNext("PUT", "roleAssignmentScheduleRequests", 503, "ServiceUnavailable", afterCommitting: true);

        var first = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);
        var again = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal((DirectoryChangeOutcome.Done, DirectoryChangeOutcome.Done), (first.Outcome, again.Outcome));
        Assert.Single(Stub.AzureRoleAssignments());
        Assert.Equal(1, Stub.Created);
        var names = Stub.Requests.Where(r => r.Method == "PUT").Select(r => r.PathAndQuery).Distinct().ToList();
        Assert.Single(names);
    }

    [Fact]
    public async Task AnArmRequestLeftFailedOrDenied_IsNotTakenForAGrant()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        Stub.ArmRequestState = "Failed";

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, Grant(DemoOrganisation.ContributorOnRgProd));

        Assert.Equal(DirectoryChangeOutcome.Refused, result.Outcome);
        Assert.Equal("Azure Resource Manager did not carry out the request: Failed.", result.Error);
        Assert.Empty(Stub.AzureRoleAssignments());
    }

    [Fact]
    public async Task ArmThrottling_ComesBackWithRetryAfter()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        Stub.FailNext("PUT", "roleAssignmentScheduleRequests", 429, "TooManyRequests", retryAfterSeconds: 12);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, Grant(DemoOrganisation.ContributorOnRgProd));

        Assert.Equal((DirectoryChangeOutcome.RetryLater, TimeSpan.FromSeconds(12), true), (result.Outcome, result.RetryAfter, result.Throttled));
        Assert.Empty(Stub.AzureRoleAssignments());
    }

    [Fact]
    public async Task TheArmRequestBody_UsesOnlyDocumentedProperties()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        var grant = Grant(DemoOrganisation.ContributorOnRgProd);

        await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        var sent = Stub.Requests.Single(r => r.Method == "PUT").Json!["properties"]!.AsObject();
        var documented = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Directory", "Fixtures", "arm-roleAssignmentScheduleRequest-adminAssign.json")))!["properties"]!.AsObject();
        Assert.All(sent.Select(p => p.Key), key => Assert.True(documented.ContainsKey(key) || key == "justification", $"{key} is not a documented property"));
        Assert.Equal(documented["requestType"]!.GetValue<string>(), sent["requestType"]!.GetValue<string>());
        Assert.Contains(sent["scheduleInfo"]!["expiration"]!["type"]!.GetValue<string>(), new[] { "AfterDuration", "AfterDateTime", "NoExpiration" });
        Assert.Equal(grant.NotAfter, DateTimeOffset.Parse(sent["scheduleInfo"]!["expiration"]!["endDateTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task AnUnknownRole_IsRefusedWithGraphsWords()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        Stub.FailNext("POST", "roleAssignments", 400, "Request_BadRequest", "Invalid role definition id.");

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, Grant(GlobalAdmin));

        Assert.Equal(DirectoryChangeOutcome.Refused, result.Outcome);
        Assert.Contains("Invalid role definition id.", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DirectoryRoleMode.Direct, GroupGrantMode.Membership, "POST", "/roleManagement/directory/roleAssignments", "create-unifiedRoleAssignment.json", "Assign", "GlobalAdmin")]
    [InlineData(DirectoryRoleMode.PimSchedule, GroupGrantMode.Membership, "POST", "/roleManagement/directory/roleAssignmentScheduleRequests", "roleAssignmentScheduleRequest-adminAssign.json", "Assign", "GlobalAdmin")]
    [InlineData(DirectoryRoleMode.PimSchedule, GroupGrantMode.Membership, "POST", "/roleManagement/directory/roleAssignmentScheduleRequests", "roleAssignmentScheduleRequest-adminRemove.json", "Remove", "GlobalAdmin")]
    [InlineData(DirectoryRoleMode.Direct, GroupGrantMode.Membership, "POST", "/members/$ref", "group-members-ref.json", "Assign", "ProdDb")]
    [InlineData(DirectoryRoleMode.Direct, GroupGrantMode.PimForGroups, "POST", "/privilegedAccess/group/assignmentScheduleRequests", "privilegedAccessGroupAssignmentScheduleRequest-adminAssign.json", "Assign", "ProdDb")]
    public async Task RequestBodies_MatchMicrosoftsDocumentedExamples(DirectoryRoleMode roles, GroupGrantMode groups, string method, string path, string fixture, string kind, string role)
    {
        var gateway = Gateway(roles, groups);
        var grant = Grant(role == "ProdDb" ? ProdDb : GlobalAdmin);
        if (kind == "Remove")
        {
            await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);
        }

        await ApplyAsync(gateway, Enum.Parse<DirectoryChangeKind>(kind), grant);

        var sent = Stub.Requests.Last(r => r.Method == method && r.PathAndQuery.Contains(path, StringComparison.Ordinal)).Json!.AsObject();
        var documented = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Directory", "Fixtures", fixture)))!.AsObject();
        // The SDK names the entity's own type where the example leaves it to the endpoint; Graph accepts both.
        if (documented["@odata.type"] is null && sent["@odata.type"]?.GetValue<string>() is { } type)
        {
            Assert.Equal("#microsoft.graph." + char.ToLowerInvariant(fixture[0]) + fixture[1..fixture.IndexOf('-', StringComparison.Ordinal)], type);
            sent.Remove("@odata.type");
        }

        Assert.Equal(Shape(documented), Shape(sent));
        foreach (var fixedValue in new[] { "@odata.type", "action", "accessId", "directoryScopeId" })
        {
            Assert.Equal(documented[fixedValue]?.ToJsonString(), sent[fixedValue]?.ToJsonString());
        }

        Assert.Equal(grant.PrincipalId.ToString(), (sent["principalId"] ?? JsonValue.Create(sent["@odata.id"]!.GetValue<string>().Split('/')[^1]))!.GetValue<string>());
        if (sent["scheduleInfo"] is { } schedule)
        {
            Assert.Equal(grant.NotAfter, DateTimeOffset.Parse(schedule["expiration"]!["endDateTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task TheOutbox_HonoursRetryAfter_AndTheGrantBecomesActiveOnceGraphAccepts()
    {
        await using var portal = await TestApp.StartAsync(DatabaseKind.Sqlite, services => services.UseGraphStub(Stub));
        Stub.FailNext("POST", "roleAssignments", 429, "TooManyRequests", retryAfterSeconds: 30);
        var activation = (await portal.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.UserAdministrator)).ActivationId!.Value;

        await portal.Outbox.ProcessBatchAsync(CancellationToken.None);
        portal.Time.Advance(TimeSpan.FromSeconds(29));
        await portal.Outbox.ProcessBatchAsync(CancellationToken.None);
        Assert.Equal(ActivationStatus.Provisioning, (await portal.ActivationAsync(activation)).Status);

        portal.Time.Advance(TimeSpan.FromSeconds(1));
        await portal.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Equal(ActivationStatus.Active, (await portal.ActivationAsync(activation)).Status);
        Assert.Single(Stub.RoleAssignments(), a => a.PrincipalId == DemoOrganisation.Alice.Id.ToString() && a.RoleDefinitionId == DemoOrganisation.UserAdministrator.ExternalId);
        Assert.Equal(2, Stub.Requests.Count(r => r.Method == "POST"));
    }

    [Fact]
    public async Task AWriteGraphCommittedButNeverAnswered_IsReadBack_AndCountsAsDone_WithoutASecondWrite()
    {
        var gateway = Stub.Gateway(App.Services, timeout: TimeSpan.FromSeconds(1));
        Stub.HangNext("POST", "roleAssignments", afterCommitting: true);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, Grant(GlobalAdmin));

        Assert.Equal(DirectoryChangeOutcome.Done, result.Outcome);
        Assert.Single(Stub.RoleAssignments());
        Assert.Single(Stub.Requests, r => r.Method == "POST");
    }

    [Theory]
    [InlineData(GroupGrantMode.Membership, "/members/$ref")]
    [InlineData(GroupGrantMode.PimForGroups, "/privilegedAccess/group/assignmentScheduleRequests")]
    public async Task AGroupGrant_WhoseConnectionIsResetAfterGraphCommitted_IsReadBack_AndHeldOnce(GroupGrantMode mode, string path)
    {
        var gateway = Gateway(DirectoryRoleMode.Direct, mode);
        Stub.ResetNext("POST", path, afterCommitting: true);
        var grant = Grant(ProdDb);

        var first = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);
        var again = first.Outcome == DirectoryChangeOutcome.Done ? first : await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal(DirectoryChangeOutcome.Done, again.Outcome);
        Assert.Single(Stub.MembersOf(ProdDb.ExternalId), m => m == grant.PrincipalId.ToString());
        Assert.Single(Stub.Requests, r => r.Method == "POST" && r.PathAndQuery.Contains(path, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(GroupGrantMode.Membership, "/members/$ref")]
    [InlineData(GroupGrantMode.PimForGroups, "/privilegedAccess/group/assignmentScheduleRequests")]
    public async Task AGroupGrant_Answered500AfterGraphCommitted_IsReadBack_AndHeldOnce(GroupGrantMode mode, string path)
    {
        var gateway = Gateway(DirectoryRoleMode.Direct, mode);
        Stub.FailNext("POST", path, 500, "InternalServerError", afterCommitting: true);
        var grant = Grant(ProdDb);

        var result = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal(DirectoryChangeOutcome.Done, result.Outcome);
        Assert.Single(Stub.MembersOf(ProdDb.ExternalId), m => m == grant.PrincipalId.ToString());
    }

    [Fact]
    public async Task AnArmRequestAnswered500AfterArmCommitted_GrantsOnce()
    {
        var gateway = Gateway(DirectoryRoleMode.Direct);
        var grant = Grant(DemoOrganisation.ContributorOnRgProd);
        Stub.FailNext("PUT", "roleAssignmentScheduleRequests", 500, "InternalServerError", afterCommitting: true);

        var first = await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);
        var again = first.Outcome == DirectoryChangeOutcome.Done ? first : await ApplyAsync(gateway, DirectoryChangeKind.Assign, grant);

        Assert.Equal(DirectoryChangeOutcome.Done, again.Outcome);
        Assert.Single(Stub.AzureRoleAssignments());
        Assert.Equal(1, Stub.Created);
    }

    [Fact]
    public async Task AHundredGrants_WithAFifthOfGraphsWritesThrottled_AllConverge_NoneDuplicated_NoneLeftAfterTheirEnd()
    {
        await using var portal = await TestApp.StartAsync(DatabaseKind.Sqlite, services => services.UseGraphStub(Stub));
        Stub.ThrottleShare = 0.2;
        Stub.ThrottleRetryAfterSeconds = 1;
        var role = DemoOrganisation.UserAdministrator;
        var start = portal.Time.GetUtcNow();
        var lifetime = TimeSpan.FromMinutes(10);
        var users = new List<string>();
        await portal.ChangeAsync(db =>
        {
            for (var i = 0; i < 100; i++)
            {
                var principal = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Burst {i}", $"burst-{i}@contoso.test");
                var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, start.AddDays(-1), null, Guid.Empty, start);
                var request = ActivationRequest.ApprovedByPolicy(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, principal.Id, lifetime, new("Graph burst", null, null), start, null);
                var activation = new RoleActivation(Guid.NewGuid(), request, start);
                db.AddRange(principal, eligibility, request, activation, new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, activation.Id, start));
                users.Add(principal.Id.ToString());
            }

            return Task.CompletedTask;
        });
        var burst = users.ToHashSet(StringComparer.Ordinal);

        // The outbox on the portal's clock: each pass sends what is due, a 429 comes back after Retry-After.
        await DrainAsync(portal, db => db.Activations.CountAsync(a => a.ConfirmedAt == null && a.Status != ActivationStatus.Failed));
        var confirmed = await portal.Db(db => db.Activations.CountAsync(a => a.ConfirmedAt != null && a.Status == ActivationStatus.Active));
        var held = Stub.RoleAssignments().Count(a => burst.Contains(a.PrincipalId));
        var throttled = Stub.Throttled;

        portal.Time.Advance(lifetime);
        await portal.Expiry.ExpireDueAsync(CancellationToken.None);
        await DrainAsync(portal, db => db.Activations.CountAsync(a => a.RemovedFromDirectoryAt == null));

        Assert.Equal((100, 100), (confirmed, held));
        Assert.True(throttled > 0, "the stub throttled nothing: the test would not show the retries");
        Assert.Equal(100, Stub.Created);
        Assert.DoesNotContain(Stub.RoleAssignments(), a => burst.Contains(a.PrincipalId));
        Assert.Equal(100, await portal.Db(db => db.Activations.CountAsync(a => a.Status == ActivationStatus.Expired && a.RemovedFromDirectoryAt != null)));
    }

    /// <summary>Outbox passes, a second apart on the portal's clock, until <paramref name="left"/> is 0 (at most 300).</summary>
    private static async Task DrainAsync(TestApp portal, Func<Core.Persistence.PimDbContext, Task<int>> left)
    {
        for (var pass = 0; pass < 300 && await portal.Db(left) > 0; pass++)
        {
            await portal.Outbox.ProcessBatchAsync(CancellationToken.None);
            portal.Time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(0, await portal.Db(left));
    }

    private GraphDirectoryGateway Gateway(DirectoryRoleMode roles, GroupGrantMode groups = GroupGrantMode.Membership)
    {
        return Stub.Gateway(App.Services, roles, groups);
    }

    private static async Task<DirectoryChangeResult> ApplyAsync(GraphDirectoryGateway gateway, DirectoryChangeKind kind, DirectoryGrant grant) =>
        Assert.Single(await gateway.ApplyAsync([new DirectoryChange(kind, grant)], CancellationToken.None));

    private DirectoryGrant Grant(DemoRole role)
    {
        var now = App.Time.GetUtcNow();
        return new DirectoryGrant(Guid.NewGuid(), DemoOrganisation.Alice.Id, role.Id, role.Kind, role.ExternalId, role.Scope, now, now.AddHours(2));
    }

    /// <summary>The property paths of a body; an expiration's documented alternatives (afterDuration's duration, afterDateTime's endDateTime) are one.</summary>
    private static List<string> Shape(JsonObject body, string prefix = "") =>
        [.. body.SelectMany(p => p.Value is JsonObject inner
                ? Shape(inner, $"{prefix}{p.Key}.")
                : [$"{prefix}{(p.Key is "duration" or "endDateTime" && prefix.EndsWith("expiration.", StringComparison.Ordinal) ? "(end)" : p.Key)}"])
            .Order(StringComparer.Ordinal)];
}
