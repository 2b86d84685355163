using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Approvals;

public sealed class ApprovalQueueOnSqlite() : ApprovalQueueTests(DatabaseKind.Sqlite);

public sealed class ApprovalQueueOnPostgreSql() : ApprovalQueueTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ApprovalQueueOnSqlServer() : ApprovalQueueTests(DatabaseKind.SqlServer);
#endif

public abstract class ApprovalQueueTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;

    [Fact]
    public async Task TheQueue_ShowsEverythingAnApproverNeeds_AndWhoHasDecided()
    {
        var id = await App.RequestAsync(Alice, DemoOrganisation.PrivilegedRoleAdministrator, TimeSpan.FromMinutes(90));
        App.Time.Advance(TimeSpan.FromMinutes(5));
        await App.ApproveAsync(Erin, id, "Fine by me");

        var page = await App.QueryAs(Bob, new GetApprovalQueue());

        var item = Assert.Single(page.Items);
        Assert.Equal(
            (id, "Alice Adams", "alice@contoso.test", "Privileged Role Administrator", "/", "Approved change window", "CHG42", "ServiceNow"),
            (item.RequestId, item.RequesterName, item.RequesterUpn, item.RoleName, item.Scope, item.Justification, item.TicketNumber, item.TicketSystem));
        Assert.Equal((TestApp.Start, TimeSpan.FromMinutes(90), TestApp.Start, TestApp.Start.AddHours(24)), (item.RequestedStart, item.Duration, item.CreatedAt, item.ExpiresAt));
        Assert.Equal((1, 2, (ApprovalVerdict?)null), (item.ApprovalsGiven, item.ApprovalsNeeded, item.MyVerdict));
        var decided = Assert.Single(item.Decisions);
        Assert.Equal(("Erin Evans", ApprovalVerdict.Approve, "Fine by me", TestApp.Start.AddMinutes(5)), (decided.ApproverName, decided.Verdict, decided.Reason, decided.DecidedAt));
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task TheQueue_LeavesOutTheApproversOwnRequests_AndOtherRolesRequests()
    {
        var bobs = await App.RequestAsync(Bob, DemoOrganisation.GlobalAdministrator);
        App.Time.Advance(TimeSpan.FromMinutes(1));
        var alices = await App.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

        Assert.Equal([alices], (await App.QueryAs(Bob, new GetApprovalQueue())).Items.Select(i => i.RequestId));
        Assert.Equal([bobs, alices], (await App.QueryAs(Erin, new GetApprovalQueue())).Items.Select(i => i.RequestId));
        Assert.Empty((await App.QueryAs(DemoOrganisation.Carol, new GetApprovalQueue())).Items);
    }

    [Fact]
    public async Task KeysetPages_WalkTheWholeQueueInDeadlineOrder_WithoutRepeatsOrGaps()
    {
        var ids = await SeedPendingAsync(23);

        var seen = new List<Guid>();
        QueueCursor? cursor = null;
        var pages = 0;
        do
        {
            var page = await App.QueryAs(Bob, new GetApprovalQueue(cursor, PageSize: 5));
            Assert.True(page.Items.Count <= 5);
            seen.AddRange(page.Items.Select(i => i.RequestId));
            cursor = page.Next;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(5, pages);
        Assert.Equal(ids, seen);
    }

    [Fact]
    public async Task APageSizeOutOfRange_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<ValidationFailedException>(() => App.QueryAs(Bob, new GetApprovalQueue(PageSize: 0)));

        Assert.Equal("A page holds 1 to 200 requests.", refused.Message);
    }

    [Fact]
    public async Task TheTimeline_IsVisibleToTheRequesterApproversAndAuditors_AndNobodyElse()
    {
        var id = await App.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
        App.Time.Advance(TimeSpan.FromMinutes(3));
        await App.ApproveAsync(Bob, id, "ok");
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var mine = await App.QueryAs(Alice, new GetRequestDetails(id));

        Assert.Equal(
            [AuditActions.ActivationRequested, AuditActions.ApprovalGiven, AuditActions.RequestApproved, AuditActions.ActivationGranted, AuditActions.ActivationProvisioned],
            mine.Timeline.Select(t => t.Action));
        Assert.Equal(("Alice Adams", "Bob Brown"), (mine.Timeline[0].Actor, mine.Timeline[1].Actor));
        Assert.Equal((ActivationRequestStatus.Approved, true, false, false), (mine.Status, mine.IsMine, mine.CanDecide, mine.CanCancel));
        Assert.Equal(mine.Timeline, (await App.QueryAs(Erin, new GetRequestDetails(id))).Timeline);
        Assert.Equal(mine.Timeline.Count, (await App.QueryAs(DemoOrganisation.Dave, new GetRequestDetails(id))).Timeline.Count);
        await Assert.ThrowsAsync<NotFoundException>(() => App.QueryAs(DemoOrganisation.Carol, new GetRequestDetails(id)));
    }

    [Fact]
    public async Task Details_SayWhoMayStillDecide()
    {
        var id = await App.RequestAsync(Alice, DemoOrganisation.PrivilegedRoleAdministrator);
        await App.ApproveAsync(Bob, id);

        var forBob = await App.QueryAs(Bob, new GetRequestDetails(id));
        var forErin = await App.QueryAs(Erin, new GetRequestDetails(id));
        var forAlice = await App.QueryAs(Alice, new GetRequestDetails(id));

        Assert.Equal((false, ApprovalVerdict.Approve), (forBob.CanDecide, forBob.Request.MyVerdict!.Value));
        Assert.True(forErin.CanDecide);
        Assert.Equal((false, true), (forAlice.CanDecide, forAlice.CanCancel));
    }

    /// <summary>Pending requests of many requesters for Global Administrator, returned in the queue's order.</summary>
    private async Task<List<Guid>> SeedPendingAsync(int count)
    {
        var now = App.Time.GetUtcNow();
        var ids = new List<(DateTimeOffset, Guid)>();
        await App.ChangeAsync(db =>
        {
            for (var i = 0; i < count; i++)
            {
                var user = new Principal(Guid.NewGuid(), PrincipalKind.User, $"Requester {i:00}", $"requester{i}@contoso.test");
                var eligibility = new RoleEligibility(Guid.NewGuid(), user.Id, DemoOrganisation.GlobalAdministrator.Id, "/", now, null, Guid.Empty, now);
                // Some share a deadline, so the id breaks the tie.
                var asked = now.AddMinutes(i / 3);
                var request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, user.Id, TimeSpan.FromHours(1),
                    new RequestDetails("Batch", "CHG1", "ServiceNow"), asked, asked, 1, TimeSpan.FromHours(24));
                db.AddRange(user, eligibility, request);
                ids.Add((request.ExpiresAt!.Value, request.Id));
            }

            return Task.CompletedTask;
        });

        // The database's own order of ids (SQLite compares their text, PostgreSQL its uuid bytes) breaks deadline ties.
        var order = await App.Db(db => db.ActivationRequests.AsNoTracking().Where(r => r.Status == ActivationRequestStatus.Pending)
            .OrderBy(r => r.ExpiresAt).ThenBy(r => r.Id).Select(r => r.Id).ToListAsync());
        Assert.Equal(ids.Select(i => i.Item2).Order(), order.Order());
        return order;
    }
}
