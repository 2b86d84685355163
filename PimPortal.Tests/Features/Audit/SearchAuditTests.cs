using PimPortal.Core;
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
