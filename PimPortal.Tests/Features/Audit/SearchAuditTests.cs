using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Audit;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Audit;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Audit;

public sealed class SearchAuditOnSqlite() : SearchAuditTests(DatabaseKind.Sqlite);

public sealed class SearchAuditOnPostgreSql() : SearchAuditTests(DatabaseKind.PostgreSql);

/// <summary>The audit trail as auditors search it, and each user's own.</summary>
public abstract class SearchAuditTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task Filters_FindWhoHeldARole_WhyAndWhoApproved()
    {
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        var request = await App.RequestAsync(Alice, globalAdmin);
        App.Time.Advance(TimeSpan.FromMinutes(5));
        await App.ApproveAsync(DemoOrganisation.Bob, request, "CAB approved");
        App.Time.Advance(TimeSpan.FromMinutes(5));
        await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator);

        var ofGlobalAdmin = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(RoleId: globalAdmin.Id, SubjectId: Alice.Id)));
        var byBob = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(ActorId: DemoOrganisation.Bob.Id, Action: AuditActions.ApprovalGiven)));
        var byText = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(Text: "APPROVED CHANGE WINDOW")));
        var inRange = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(From: TestApp.Start.AddMinutes(4), To: TestApp.Start.AddMinutes(6))));
        var refused = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(Outcome: AuditOutcome.Refused)));

        Assert.Equal([AuditActions.ActivationGranted, AuditActions.RequestApproved, AuditActions.ApprovalGiven, AuditActions.ActivationRequested],
            ofGlobalAdmin.Rows.Select(r => r.Action));
        Assert.All(ofGlobalAdmin.Rows, r => Assert.Equal((request, "Alice Adams", "Global Administrator"), (r.RequestId!.Value, r.SubjectName!, r.RoleName!)));
        var approval = Assert.Single(byBob.Rows);
        Assert.Equal("Bob Brown", approval.ActorName);
        Assert.Contains("CAB approved", approval.Details!, StringComparison.Ordinal);
        Assert.Equal(request.ToString(), Assert.Single(byText.Rows).TargetId);
        Assert.All(inRange.Rows, r => Assert.Equal(TestApp.Start.AddMinutes(5), r.OccurredAt));
        Assert.NotEmpty(inRange.Rows);
        Assert.Empty(refused.Rows);
    }

    [Fact]
    public async Task TimeRange_FindsEventsWhoseIdsAreOutOfTimeOrder_SealedOrNot()
    {
        // Ids follow insertion, times the clocks of the instances: an event may come in after newer ones.
        var trail = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<AuditTrail>(App.Services);
        var first = await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30));
        await App.SendAs(Alice, new Core.Features.Activation.DeactivateRoles([first.ActivationId!.Value]));
        await trail.SealAsync(CancellationToken.None);
        var late = TestApp.Start.AddDays(-3);
        await AddEventAtAsync(late, "late.sealed");
        await trail.SealAsync(CancellationToken.None);
        await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30));
        await AddEventAtAsync(late.AddMinutes(1), "late.unsealed");

        var found = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(From: late.AddMinutes(-1), To: late.AddMinutes(2))));
        var sealedOnly = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(From: late.AddMinutes(-1), To: late.AddSeconds(30))));
        var none = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(From: late.AddDays(-10), To: late.AddDays(-9))));
        var recent = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(From: TestApp.Start, Action: AuditActions.ActivationGranted)));

        Assert.Equal(["late.unsealed", "late.sealed"], found.Rows.Select(r => r.Action));
        Assert.Equal(["late.sealed"], (await App.QueryAs(Dave, new SearchAudit(new AuditFilter(From: late.AddMinutes(-1), Action: "late.sealed")))).Rows.Select(r => r.Action));
        Assert.Equal(["late.sealed"], sealedOnly.Rows.Select(r => r.Action));
        Assert.Empty(none.Rows);
        Assert.Equal(2, recent.Rows.Count);
    }

    [Fact]
    public async Task ARareOutcome_WithRoleAndEvent_FindsExactlyTheseEvents()
    {
        var exchange = DemoOrganisation.ExchangeAdministrator.Id;
        await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30));
        await AddEventAtAsync(TestApp.Start, AuditActions.ActivationProvisioningFailed, AuditOutcome.Failed, exchange);
        await AddEventAtAsync(TestApp.Start, AuditActions.ActivationProvisioningFailed, AuditOutcome.Failed, DemoOrganisation.GlobalAdministrator.Id);
        await AddEventAtAsync(TestApp.Start, AuditActions.ActivationRefused, AuditOutcome.Failed, exchange);

        var failed = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(RoleId: exchange, Action: AuditActions.ActivationProvisioningFailed, Outcome: AuditOutcome.Failed)));
        var succeeded = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(RoleId: exchange, Action: AuditActions.ActivationGranted, Outcome: AuditOutcome.Success)));

        Assert.Equal((AuditActions.ActivationProvisioningFailed, "Exchange Administrator"), (Assert.Single(failed.Rows).Action, failed.Rows[0].RoleName));
        Assert.Equal(AuditActions.ActivationGranted, Assert.Single(succeeded.Rows).Action);
    }

    private Task AddEventAtAsync(DateTimeOffset at, string action, AuditOutcome outcome = AuditOutcome.Success, Guid? roleId = null) => App.Db(async db =>
    {
        db.AuditEvents.Add(new AuditEvent(at, null, "PimPortal", action, "test", "late", outcome, null, roleId: roleId));
        await db.SaveChangesAsync();
    });

    [Fact]
    public async Task Pages_AreNewestFirst_AndMeetWithoutGapOrOverlap()
    {
        for (var i = 0; i < 3; i++)
        {
            var outcome = await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30));
            await App.SendAs(Alice, new Core.Features.Activation.DeactivateRoles([outcome.ActivationId!.Value]));
            App.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var all = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(), PageSize: 200));
        var pages = new List<AuditRow>();
        long? next = null;
        do
        {
            var page = await App.QueryAs(Dave, new SearchAudit(new AuditFilter(), next, PageSize: 4));
            Assert.True(page.Rows.Count <= 4);
            pages.AddRange(page.Rows);
            next = page.Next;
        }
        while (next is not null);

        Assert.Equal(all.Rows.Select(r => r.Id), pages.Select(r => r.Id));
        Assert.Equal(all.Rows.Select(r => r.Id).OrderDescending(), all.Rows.Select(r => r.Id));
        Assert.Null(all.Next);
    }

    [Fact]
    public async Task ExportCsv_IsRfc4180_WithEveryEventOfTheFilter_AndIsItselfAudited()
    {
        var tricky = "Migrate \"legal\" mailboxes, then\r\nclean up";
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.ExchangeAdministrator);
        await App.SendAs(Alice, new Core.Features.Activation.ActivateRoles([new Core.Features.Activation.ActivationItem(eligibility, TimeSpan.FromHours(1))], tricky, null, null, null));
        var expected = await App.Db(db => db.AuditEvents.CountAsync());

        using var output = new MemoryStream();
        var written = await App.SendAs(Dave, new ExportAudit(new AuditFilter(), AuditExportFormat.Csv, output));

        var records = Csv.Parse(System.Text.Encoding.UTF8.GetString(output.ToArray()));
        Assert.Equal(expected, written);
        Assert.Equal(expected + 1, records.Count);
        Assert.Equal("id", records[0][0]);
        Assert.All(records, r => Assert.Equal(16, r.Count));
        var requested = Assert.Single(records, r => r[4] == AuditActions.ActivationRequested);
        Assert.Contains("\"justification\":\"Migrate \\\"legal\\\" mailboxes, then\\r\\nclean up\"", requested[15], StringComparison.Ordinal);
        Assert.Equal(("Alice Adams", "Exchange Administrator", "Success"), (requested[7], requested[9], requested[11]));
        var exported = (await App.AuditAsync(AuditActions.AuditExported)).Single();
        Assert.Equal(Dave.Id, exported.ActorId);
        Assert.Contains($"\"rows\":{expected}", exported.Details!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportJsonLines_OneObjectPerEvent_DetailsAsJson_OnlyTheFiltered()
    {
        await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator);

        using var output = new MemoryStream();
        var written = await App.SendAs(Dave, new ExportAudit(new AuditFilter(Action: AuditActions.ActivationGranted), AuditExportFormat.JsonLines, output));

        var lines = System.Text.Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(1, written);
        using var line = System.Text.Json.JsonDocument.Parse(Assert.Single(lines));
        Assert.Equal(AuditActions.ActivationGranted, line.RootElement.GetProperty("action").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Object, line.RootElement.GetProperty("details").ValueKind);
        Assert.Equal("policy", line.RootElement.GetProperty("details").GetProperty("approvedBy").GetString());
    }

    [Fact]
    public async Task Charts_CountActivationsPerDayByRole_TheMostFrequentActivators_AndApprovalLatency()
    {
        var exchange = DemoOrganisation.ExchangeAdministrator;
        var first = await App.ActivateAsync(Alice, exchange, TimeSpan.FromMinutes(30));
        await App.SendAs(Alice, new Core.Features.Activation.DeactivateRoles([first.ActivationId!.Value]));
        App.Time.Advance(TimeSpan.FromDays(1));
        await App.ActivateAsync(Alice, exchange, TimeSpan.FromMinutes(30));
        var alices = await App.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
        App.Time.Advance(TimeSpan.FromMinutes(10));
        await App.ApproveAsync(DemoOrganisation.Bob, alices);
        var bobs = await App.RequestAsync(DemoOrganisation.Bob, DemoOrganisation.GlobalAdministrator);
        App.Time.Advance(TimeSpan.FromMinutes(30));
        await App.DenyAsync(DemoOrganisation.Erin, bobs, "Not this week");

        var charts = await App.QueryAs(Dave, new GetAuditCharts(TestApp.Start.AddDays(-1), TestApp.Start.AddDays(2)));

        Assert.Equal([new DateOnly(2026, 11, 26), new DateOnly(2026, 11, 27), new DateOnly(2026, 11, 28), new DateOnly(2026, 11, 29)], charts.Days);
        Assert.Equal([("Exchange Administrator", new[] { 0, 1, 1, 0 }), ("Global Administrator", new[] { 0, 0, 1, 0 })],
            charts.PerRole.Select(r => (r.RoleName, r.Counts.ToArray())));
        Assert.Equal([("Alice Adams", 3)], charts.TopActivators.Select(a => (a.Name, a.Activations)));
        Assert.Equal((2, (TimeSpan?)TimeSpan.FromMinutes(10), (TimeSpan?)TimeSpan.FromMinutes(30)), (charts.Latency.Decided, charts.Latency.Median, charts.Latency.P95));
    }

    [Fact]
    public async Task Charts_RefuseAnEmptyOrOverlongPeriod()
    {
        var empty = await Assert.ThrowsAsync<DomainRuleException>(() => App.QueryAs(Dave, new GetAuditCharts(TestApp.Start, TestApp.Start)));
        var overlong = await Assert.ThrowsAsync<DomainRuleException>(() => App.QueryAs(Dave, new GetAuditCharts(TestApp.Start.AddDays(-400), TestApp.Start)));

        Assert.Equal("The period must end after it starts.", empty.Message);
        Assert.Equal("Chart at most 366 days at once.", overlong.Message);
    }

    [Fact]
    public async Task OnlyAuditorsAndPimAdministrators_SearchTheTrail()
    {
        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() => App.QueryAs(Alice, new SearchAudit(new AuditFilter())));
        var erin = await App.QueryAs(DemoOrganisation.Erin, new SearchAudit(new AuditFilter()));

        Assert.Equal("This needs the Auditor or PimAdministrator permission.", forbidden.Message);
        Assert.NotEmpty(erin.Rows);
    }

    [Fact]
    public async Task MyAudit_ShowsWhatIDidAndWhatWasDoneToMe_AndNobodyElses()
    {
        await App.ActivateAsync(Alice, DemoOrganisation.ExchangeAdministrator);
        await App.SendAs(DemoOrganisation.Erin, new Core.Features.Assignments.AssignEligibility(Dave.Id, DemoOrganisation.ExchangeAdministrator.Id, null, null, "Messaging team"));

        var alices = await App.QueryAs(Alice, new GetMyAudit());
        var daves = await App.QueryAs(Dave, new GetMyAudit());

        Assert.Contains(alices.Rows, r => r.Action == AuditActions.ActivationRequested);
        Assert.DoesNotContain(alices.Rows, r => r.Action == AuditActions.EligibilityCreated);
        var made = Assert.Single(daves.Rows);
        Assert.Equal((AuditActions.EligibilityCreated, "Erin Evans", "Dave Davis"), (made.Action, made.ActorName, made.SubjectName!));
    }
}

/// <summary>A strict RFC 4180 reader for the tests: quoted fields, doubled quotes, CRLF records.</summary>
internal static class Csv
{
    public static List<List<string>> Parse(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                record.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                record.Add(field.ToString());
                field.Clear();
                records.Add(record);
                record = [];
                i++;
            }
            else
            {
                Assert.False(c is '\r' or '\n', "A bare line break outside quotes is not RFC 4180.");
                field.Append(c);
            }
        }

        Assert.False(quoted, "The text ends inside a quoted field.");
        Assert.True(field.Length == 0 && record.Count == 0, "The last record does not end with CRLF.");
        return records;
    }
}

/// <summary>SQLite searches the details through a full-text index: whole words, or prefixes marked with a star.</summary>
public sealed class AuditFullTextTests() : HandlerTests(DatabaseKind.Sqlite)
{
    [Theory]
    [InlineData("mailbox migration", true)]
    [InlineData("MIGRATION Mailbox", true)]
    [InlineData("mailb", false)]
    [InlineData("mailb*", true)]
    [InlineData("INC-77", true)]
    [InlineData("INC*", true)]
    [InlineData("IN", false)]
    [InlineData("mailbox payroll", false)]
    public async Task Text_MatchesWholeWords_OrWhatAStarredWordBegins(string text, bool found)
    {
        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator, TimeSpan.FromMinutes(30), ticket: "INC-77");
        await App.Db(async db =>
        {
            db.AuditEvents.Add(new AuditEvent(TestApp.Start, null, "PimPortal", "test.note", "test", "x", AuditOutcome.Success, "{\"justification\":\"Mailbox migration for legal\"}"));
            await db.SaveChangesAsync();
        });

        var page = await App.QueryAs(DemoOrganisation.Dave, new SearchAudit(new AuditFilter(Text: text)));

        Assert.Equal(found, page.Rows.Count > 0);
        Assert.NotNull(outcome.ActivationId);
    }

    [Theory]
    [InlineData("approved change", "\"approved\" AND \"change\"")]
    [InlineData("INC00*, \"x\"", "\"INC00\"* AND \"x\"")]
    [InlineData(" *** ", null)]
    public void FullTextQuery_QuotesEachWord(string typed, string? query) => Assert.Equal(query, SearchAuditHandler.FullTextQuery(typed));
}

