using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Approvals;

public sealed class DecideRequestOnSqlite() : DecideRequestTests(DatabaseKind.Sqlite);

public sealed class DecideRequestOnPostgreSql() : DecideRequestTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class DecideRequestOnSqlServer() : DecideRequestTests(DatabaseKind.SqlServer);
#endif

public abstract class DecideRequestTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;
    private static readonly DemoAccount Carol = DemoOrganisation.Carol;
    private static readonly DemoRole GlobalAdmin = DemoOrganisation.GlobalAdministrator;
    private static readonly DemoRole PrivilegedRoleAdmin = DemoOrganisation.PrivilegedRoleAdministrator;

    [Fact]
    public async Task ARequestForAnApprovalRole_WaitsPending_AndEveryApproverButTheRequesterIsNotified()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);

        var request = await App.RequestRowAsync(id);
        Assert.Equal((ActivationRequestStatus.Pending, 1, TestApp.Start.AddHours(24)), (request.Status, request.ApprovalsNeeded, request.ExpiresAt));
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        var toBob = Assert.Single(await App.NotificationsAsync(Bob));
        Assert.Equal((NotificationKind.ApprovalRequested, $"/requests/{id}", EmailStatus.NotSent), (toBob.Kind, toBob.Link, toBob.EmailStatus));
        Assert.Contains("Alice Adams requests activation of Global Administrator", toBob.Body, StringComparison.Ordinal);
        Assert.Contains("CHG42", toBob.Body, StringComparison.Ordinal);
        Assert.Single(await App.NotificationsAsync(Erin));
        Assert.Empty(await App.NotificationsAsync(Alice));
    }

    [Fact]
    public async Task OneApproval_OfAOneOfNRole_GrantsTheRoleWithItsAuditTrail()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin, TimeSpan.FromHours(2));
        App.Time.Advance(TimeSpan.FromMinutes(7));

        var result = await App.ApproveAsync(Bob, id, "Matches CHG42");

        Assert.Equal((ActivationRequestStatus.Approved, 1, 1), (result.Status, result.ApprovalsGiven, result.ApprovalsNeeded));
        var activation = Assert.Single(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        Assert.Equal((result.ActivationId, ActivationStatus.Provisioning), ((Guid?)activation.Id, activation.Status));
        Assert.Equal((TestApp.Start.AddMinutes(7), TestApp.Start.AddMinutes(127)), (activation.NotBefore, activation.NotAfter));
        var decision = Assert.Single((await App.RequestRowAsync(id)).Decisions);
        Assert.Equal((Bob.Id, ApprovalVerdict.Approve, "Matches CHG42"), (decision.ApproverId, decision.Verdict, decision.Reason));

        var audit = await App.AuditAsync();
        var approval = Assert.Single(audit, e => e.Action == AuditActions.ApprovalGiven);
        Assert.Equal((Bob.Id, id.ToString(), Alice.Id), (approval.ActorId!.Value, approval.TargetId, approval.SubjectId!.Value));
        Assert.Single(audit, e => e.Action == AuditActions.RequestApproved);
        var granted = Assert.Single(audit, e => e.Action == AuditActions.ActivationGranted);
        Assert.Contains("Bob Brown", granted.Details, StringComparison.Ordinal);
        Assert.Equal(approval.CorrelationId, granted.CorrelationId);
        Assert.Contains(await App.NotificationsAsync(Alice), n => n.Kind == NotificationKind.RequestApproved && n.Link == $"/requests/{id}");
    }

    [Fact]
    public async Task Deny_NeedsAReason_AndEndsTheRequestWithoutAGrant()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);

        var noReason = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Bob, new DecideRequest(id, ApprovalVerdict.Deny, "  ")));
        Assert.Equal("Give a reason to deny the request.", noReason.Message);
        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);

        var result = await App.DenyAsync(Bob, id, "No change window today");

        Assert.Equal(ActivationRequestStatus.Denied, result.Status);
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        var denied = Assert.Single(await App.AuditAsync(AuditActions.RequestDenied));
        Assert.Contains("No change window today", denied.Details, StringComparison.Ordinal);
        var told = Assert.Single(await App.NotificationsAsync(Alice));
        Assert.Equal(NotificationKind.RequestDenied, told.Kind);
        Assert.Contains("No change window today", told.Body, StringComparison.Ordinal);

        var late = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Erin, id));
        Assert.Equal("A request that is denied cannot be decided.", late.Message);
    }

    [Fact]
    public async Task AnyDeny_EndsAnMofNRequest_EvenAfterAnApproval()
    {
        var id = await App.RequestAsync(Alice, PrivilegedRoleAdmin);
        await App.ApproveAsync(Bob, id);

        var result = await App.DenyAsync(Erin, id, "Not during the freeze");

        Assert.Equal((ActivationRequestStatus.Denied, 1), (result.Status, result.ApprovalsGiven));
        Assert.Empty(await App.ActivationsOfAsync(Alice, PrivilegedRoleAdmin));
    }

    [Fact]
    public async Task NobodyApprovesTheirOwnRequest_AndTheAttemptIsAudited()
    {
        var id = await App.RequestAsync(Bob, GlobalAdmin);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Bob, id));

        Assert.Equal("Nobody can approve or deny their own request.", refused.Message);
        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);
        var attempt = Assert.Single(await App.AuditAsync(AuditActions.ApprovalRefused));
        Assert.Equal((Bob.Id, AuditOutcome.Refused, id.ToString()), (attempt.ActorId!.Value, attempt.Outcome, attempt.TargetId));
        Assert.Empty(await App.NotificationsAsync(Bob));

        var byErin = await App.ApproveAsync(Erin, id);
        Assert.Equal(ActivationRequestStatus.Approved, byErin.Status);
    }

    [Fact]
    public async Task SomeoneWhoIsNotAnApprover_IsRefused()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(Carol, id));

        Assert.Equal(DecideRequestHandler.NotYours, refused.Message);
        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);
        Assert.Single(await App.AuditAsync(AuditActions.ApprovalRefused));
    }

    [Fact]
    public async Task AnUnknownRequestId_IsRefusedWithoutSayingMore()
    {
        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(Bob, Guid.NewGuid()));

        Assert.Equal(DecideRequestHandler.NotYours, refused.Message);
    }

    [Fact]
    public async Task AnApproverRemovedAfterThePageLoaded_IsRefusedWhenDeciding()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        Assert.Single((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
        await App.ChangeAsync(async db => (await ApprovalArrange.SettingsOf(db, GlobalAdmin)).RemoveApprover(Bob.Id));

        await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(Bob, id));

        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);
        Assert.Empty((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
    }

    [Fact]
    public async Task AnApproverDisabledAfterThePageLoaded_IsRefusedWhenDeciding()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        await App.ChangeAsync(async db => (await db.Principals.SingleAsync(p => p.Id == Bob.Id)).Disable());

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(Bob, id));

        Assert.Equal("Your account is disabled.", refused.Message);
        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);
        Assert.Empty(await App.AuditAsync(AuditActions.ApprovalGiven));
    }

    [Fact]
    public async Task AMemberOfAnApproverGroup_MayDecide_UntilTakenOutOfTheGroup()
    {
        var group = await GlobalAdminApproverGroupAsync(onlyApprover: false, Carol);
        var first = await App.RequestAsync(Alice, GlobalAdmin);
        Assert.Single(await App.NotificationsAsync(Carol));
        Assert.Equal(first, Assert.Single((await App.QueryAs(Carol, new GetApprovalQueue())).Items).RequestId);

        Assert.Equal(ActivationRequestStatus.Approved, (await App.ApproveAsync(Carol, first)).Status);

        var second = await App.RequestAsync(Bob, GlobalAdmin);
        await App.ChangeAsync(db =>
        {
            db.GroupMemberships.Remove(new GroupMembership(group, Carol.Id));
            return Task.CompletedTask;
        });
        await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(Carol, second));
    }

    [Fact]
    public async Task ARequesterInTheApproverGroup_CannotApproveTheirOwnRequestThroughTheGroup_ButTheOtherMembersCan()
    {
        // A field report against other PIM tools: the requester is a member of the approver group.
        await GlobalAdminApproverGroupAsync(onlyApprover: true, Alice, Carol);
        var id = await App.RequestAsync(Alice, GlobalAdmin);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Alice, id));

        Assert.Equal("Nobody can approve or deny their own request.", refused.Message);
        Assert.Empty((await App.QueryAs(Alice, new GetApprovalQueue())).Items);
        Assert.Single(await App.AuditAsync(AuditActions.ApprovalRefused));
        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);
        Assert.Equal(ActivationRequestStatus.Approved, (await App.ApproveAsync(Carol, id)).Status);
    }

    [Fact]
    public async Task ADenyAfterTheApproval_IsRefused_AndTheGrantStands()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        Assert.Equal(ActivationRequestStatus.Approved, (await App.ApproveAsync(Bob, id)).Status);

        var late = await Assert.ThrowsAsync<DomainRuleException>(() => App.DenyAsync(Erin, id, "Changed my mind"));

        Assert.Equal("A request that is approved cannot be decided.", late.Message);
        Assert.Equal(ActivationRequestStatus.Approved, (await App.RequestRowAsync(id)).Status);
        Assert.Single(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        Assert.Empty(await App.AuditAsync(AuditActions.ApprovalDenied));
    }

    [Fact]
    public async Task TwoOfN_ActivatesOnlyAfterTwoDistinctApprovals_AndAnApproverCountsOnce()
    {
        var id = await App.RequestAsync(Alice, PrivilegedRoleAdmin);

        var first = await App.ApproveAsync(Bob, id);
        Assert.Equal((ActivationRequestStatus.Pending, 1, 2, (Guid?)null), (first.Status, first.ApprovalsGiven, first.ApprovalsNeeded, first.ActivationId));
        Assert.Empty(await App.ActivationsOfAsync(Alice, PrivilegedRoleAdmin));
        var again = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Bob, id));
        Assert.Equal("You have already decided on this request.", again.Message);
        Assert.Equal(ApprovalVerdict.Approve, Assert.Single((await App.QueryAs(Bob, new GetApprovalQueue())).Items).MyVerdict);

        var second = await App.ApproveAsync(Erin, id);

        Assert.Equal((ActivationRequestStatus.Approved, 2), (second.Status, second.ApprovalsGiven));
        Assert.Single(await App.ActivationsOfAsync(Alice, PrivilegedRoleAdmin));
        Assert.Equal(2, (await App.RequestRowAsync(id)).Decisions.Count);
    }

    [Fact]
    public async Task APendingRequest_ExpiresAfter24Hours_AndCanNoLongerBeDecided()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        App.Time.Advance(TimeSpan.FromHours(23) + TimeSpan.FromMinutes(59));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);
        Assert.Equal(ActivationRequestStatus.Pending, (await App.RequestRowAsync(id)).Status);

        App.Time.Advance(TimeSpan.FromMinutes(1));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal(ActivationRequestStatus.Expired, (await App.RequestRowAsync(id)).Status);
        Assert.Single(await App.AuditAsync(AuditActions.RequestExpired));
        Assert.Contains(await App.NotificationsAsync(Alice), n => n.Kind == NotificationKind.RequestClosed);
        Assert.Empty((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
        var late = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Bob, id));
        Assert.Equal("A request that is expired cannot be decided.", late.Message);
    }

    [Fact]
    public async Task ARequestPastItsDeadline_IsRefusedEvenBeforeTheWorkerExpiresIt()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        App.Time.Advance(TimeSpan.FromHours(25));

        Assert.Empty((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
        Assert.False((await App.QueryAs(Bob, new GetRequestDetails(id))).CanDecide);

        var late = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Bob, id));

        Assert.Equal("This request has expired.", late.Message);
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
    }

    [Fact]
    public async Task ACancelledRequest_CannotBeApproved()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        await App.SendAs(Alice, new CancelActivationRequest(id));

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.ApproveAsync(Bob, id));

        Assert.Equal("A request that is cancelled cannot be decided.", refused.Message);
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
    }

    [Fact]
    public async Task ApprovedAfterTheEligibilityWasRemoved_Lapses_WithoutAGrant()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        var eligibility = await App.EligibilityOf(Alice, GlobalAdmin);
        await App.ChangeAsync(async db => (await db.Eligibilities.SingleAsync(e => e.Id == eligibility)).Remove(App.Time.GetUtcNow()));

        var result = await App.ApproveAsync(Bob, id);

        Assert.Equal((ActivationRequestStatus.Lapsed, (Guid?)null), (result.Status, result.ActivationId));
        Assert.Equal("Nothing was granted: the eligibility was removed.", result.ClosedReason);
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        Assert.Single(await App.AuditAsync(AuditActions.RequestLapsed));
    }

    [Fact]
    public async Task AScheduledRequest_ApprovedEarly_ActivatesAtItsRequestedStart()
    {
        var start = TestApp.Start.AddHours(3);
        var id = await App.RequestAsync(Alice, GlobalAdmin, TimeSpan.FromHours(2), start);

        var result = await App.ApproveAsync(Bob, id);

        Assert.Equal((ActivationRequestStatus.Scheduled, (Guid?)null), (result.Status, result.ActivationId));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        Assert.Equal(start, await App.Expiry.NextDueAsync(CancellationToken.None));

        App.Time.Advance(TimeSpan.FromHours(3));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        var activation = Assert.Single(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        Assert.Equal((start, start.AddHours(2)), (activation.NotBefore, activation.NotAfter));
        Assert.Equal(ActivationRequestStatus.Approved, (await App.RequestRowAsync(id)).Status);
        var granted = Assert.Single(await App.AuditAsync(AuditActions.ActivationGranted));
        Assert.Contains("Bob Brown", granted.Details, StringComparison.Ordinal);
        Assert.Single(await App.AuditAsync(AuditActions.RequestStarted));
    }

    [Fact]
    public async Task AScheduledRequest_WhoseEligibilityEndedBeforeItsStart_DoesNotActivate()
    {
        var start = TestApp.Start.AddHours(5);
        var id = await App.RequestAsync(Alice, GlobalAdmin, TimeSpan.FromHours(1), start);
        await App.ApproveAsync(Bob, id);
        var eligibility = await App.EligibilityOf(Alice, GlobalAdmin);
        await App.ChangeAsync(async db => (await db.Eligibilities.SingleAsync(e => e.Id == eligibility)).Remove(App.Time.GetUtcNow()));

        App.Time.Advance(TimeSpan.FromHours(5));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        var request = await App.RequestRowAsync(id);
        Assert.Equal((ActivationRequestStatus.Lapsed, "Nothing was granted: the eligibility was removed."), (request.Status, request.ClosedReason));
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
        Assert.Contains(await App.NotificationsAsync(Alice), n => n.Kind == NotificationKind.RequestClosed && n.Body.Contains("eligibility was removed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARoleWithoutApproval_CanBeScheduled_AndTheScheduleCanBeCancelled()
    {
        var start = TestApp.Start.AddHours(1);
        var scheduled = await App.RequestAsync(Alice, DemoOrganisation.UserAdministrator, TimeSpan.FromHours(1), start);
        Assert.Equal(ActivationRequestStatus.Scheduled, (await App.RequestRowAsync(scheduled)).Status);
        var mine = await App.QueryAs(Alice, new GetMyRoles());
        Assert.Equal(start, Assert.Single(mine.Pending).RequestedStart);
        Assert.False(Assert.Single(mine.Eligible, e => e.RoleName == "User Administrator").CanActivate);

        await App.SendAs(Alice, new CancelActivationRequest(scheduled));
        App.Time.Advance(TimeSpan.FromHours(1));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal(ActivationRequestStatus.Cancelled, (await App.RequestRowAsync(scheduled)).Status);
        Assert.Empty(await App.ActivationsOfAsync(Alice, DemoOrganisation.UserAdministrator));
    }

    [Theory]
    [InlineData(-10)]
    [InlineData(60 * 24 * 31)]
    public async Task AStartInThePastOrTooFarAhead_IsRefused(int minutesFromNow)
    {
        var refused = await Assert.ThrowsAsync<RefusedException>(() =>
            App.RequestAsync(Alice, GlobalAdmin, startAt: TestApp.Start.AddMinutes(minutesFromNow)));

        Assert.Contains(minutesFromNow < 0 ? "is in the past" : "at most 30 days ahead", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, await App.CountAsync<ActivationRequest>());
    }

    [Fact]
    public async Task ExtendingAnApprovalRole_IsARequest_ThatMovesTheEndOnlyWhenApproved()
    {
        var activationId = await App.ApprovedActivationAsync(Alice, GlobalAdmin, Erin, TimeSpan.FromHours(1));
        var extension = await App.SendAs(Alice, new ExtendActivation(activationId, TimeSpan.FromHours(3), "Still migrating", "CHG42", "ServiceNow", App.CodeFor(Alice)));
        Assert.Equal(ActivationRequestStatus.Pending, extension.RequestStatus);
        Assert.Equal(TestApp.Start.AddHours(1), (await App.ActivationAsync(activationId)).NotAfter);
        var queued = Assert.Single((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
        Assert.Equal(ActivationRequestKind.Extend, queued.RequestKind);
        App.Time.Advance(TimeSpan.FromMinutes(10));

        var result = await App.ApproveAsync(Bob, extension.RequestId);

        Assert.Equal((ActivationRequestStatus.Approved, (Guid?)activationId), (result.Status, result.ActivationId));
        Assert.Equal(TestApp.Start.AddMinutes(10).AddHours(3), (await App.ActivationAsync(activationId)).NotAfter);
        Assert.Single(await App.AuditAsync(AuditActions.ActivationExtended));
        Assert.Equal(1, await App.Db(db => db.Outbox.CountAsync(m => m.TargetId == activationId && m.Type == OutboxMessageType.ExtendGrant)));
    }

    [Fact]
    public async Task AnExtensionRequest_OfAnActivationThatEnds_Lapses()
    {
        var activationId = await App.ApprovedActivationAsync(Alice, GlobalAdmin, Erin, TimeSpan.FromHours(1));
        var extension = await App.SendAs(Alice, new ExtendActivation(activationId, TimeSpan.FromHours(3), "Still migrating", "CHG42", "ServiceNow", App.CodeFor(Alice)));

        App.Time.Advance(TimeSpan.FromHours(1));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal(ActivationRequestStatus.Lapsed, (await App.RequestRowAsync(extension.RequestId)).Status);
        Assert.Empty((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
    }

    [Fact]
    public async Task AnM0fNRole_WithTooFewApproversBesidesTheRequester_IsRefusedUpFront()
    {
        await App.ChangeAsync(async db => (await ApprovalArrange.SettingsOf(db, PrivilegedRoleAdmin)).RemoveApprover(Erin.Id));

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.RequestAsync(Alice, PrivilegedRoleAdmin));

        Assert.Equal("This role needs 2 approvals but has 1 approvers other than you; ask a PIM administrator.", refused.Message);
    }

    [Fact]
    public async Task ARequest_AndItsDecision_TellOpenPages_WhoseViewChanged()
    {
        var seen = new List<Core.Signals.PortalEvent>();
        App.Services.GetRequiredService<Core.Signals.PortalEvents>().Raised += e =>
        {
            lock (seen)
            {
                seen.Add(e);
            }
        };

        var id = await App.RequestAsync(Alice, GlobalAdmin);

        Assert.Contains(new Core.Signals.PortalEvent(Guid.Empty, Core.Signals.PortalEventKind.ApprovalsChanged), seen);
        Assert.Contains(new Core.Signals.PortalEvent(Bob.Id, Core.Signals.PortalEventKind.NotificationsChanged), seen);
        Assert.Contains(new Core.Signals.PortalEvent(Erin.Id, Core.Signals.PortalEventKind.NotificationsChanged), seen);
        Assert.DoesNotContain(new Core.Signals.PortalEvent(Alice.Id, Core.Signals.PortalEventKind.NotificationsChanged), seen);
        seen.Clear();

        await App.ApproveAsync(Bob, id);

        Assert.Contains(new Core.Signals.PortalEvent(Alice.Id), seen);
        Assert.Contains(new Core.Signals.PortalEvent(Alice.Id, Core.Signals.PortalEventKind.NotificationsChanged), seen);
        Assert.Contains(new Core.Signals.PortalEvent(Guid.Empty, Core.Signals.PortalEventKind.ApprovalsChanged), seen);
    }

    [Fact]
    public async Task ApprovedAfterTheRequesterWasDisabled_Lapses_WithoutAGrant()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        await App.ChangeAsync(async db => (await db.Principals.SingleAsync(p => p.Id == Alice.Id)).Disable());

        var result = await App.ApproveAsync(Bob, id);

        Assert.Equal((ActivationRequestStatus.Lapsed, "Nothing was granted: the requester's account is disabled."), (result.Status, result.ClosedReason));
        Assert.Empty(await App.ActivationsOfAsync(Alice, GlobalAdmin));
    }

    [Fact]
    public async Task TheDryRun_NamesGroupApprovers_AndCountsTheirMembers()
    {
        var group = Guid.NewGuid();
        await App.ChangeAsync(async db =>
        {
            db.Principals.Add(new Principal(group, PrincipalKind.Group, "Security desk", null));
            db.GroupMemberships.Add(new GroupMembership(group, Carol.Id));
            await db.SaveChangesAsync();
            var settings = await ApprovalArrange.SettingsOf(db, PrivilegedRoleAdmin);
            settings.RemoveApprover(Erin.Id);
            settings.AddApprover(group);
        });
        var eligibility = await App.EligibilityOf(Alice, PrivilegedRoleAdmin);

        var preview = await App.QueryAs(Alice, new PreviewActivation([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "x", "1", "y", false));

        var approval = Assert.Single(preview.Items.Single().Decision.Requirements, r => r.Kind == Core.Policy.PolicyRequirementKind.Approval);
        Assert.Equal("Approval by 2 of: Bob Brown, Security desk (group)", approval.Description);
        Assert.DoesNotContain(preview.Items.Single().Decision.Violations, v => v.Code == Core.Policy.PolicyViolationCode.NoApprovers);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-5)]
    public async Task AScheduledStart_GivenInTheUsersTimeZone_StartsAtThatInstant(int offsetHours)
    {
        var instant = TestApp.Start.AddHours(3);
        var asTheUserTypedIt = instant.ToOffset(TimeSpan.FromHours(offsetHours));
        var id = await App.RequestAsync(Alice, DemoOrganisation.UserAdministrator, TimeSpan.FromHours(1), asTheUserTypedIt);
        Assert.Equal((instant, TimeSpan.Zero), ((await App.RequestRowAsync(id)).RequestedStart, (await App.RequestRowAsync(id)).RequestedStart.Offset));

        App.Time.Advance(TimeSpan.FromHours(3) - TimeSpan.FromSeconds(1));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);
        Assert.Empty(await App.ActivationsOfAsync(Alice, DemoOrganisation.UserAdministrator));

        App.Time.Advance(TimeSpan.FromSeconds(1));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);
        Assert.Equal(instant, Assert.Single(await App.ActivationsOfAsync(Alice, DemoOrganisation.UserAdministrator)).NotBefore);
    }

    [Fact]
    public async Task AScheduledRequest_ApprovedAfterItsStart_GetsWhatIsLeftOfItsWindow_OrLapses()
    {
        var start = TestApp.Start.AddHours(1);
        var late = await App.RequestAsync(Alice, GlobalAdmin, TimeSpan.FromHours(2), start);
        var tooLate = await App.RequestAsync(Bob, GlobalAdmin, TimeSpan.FromHours(1), start);
        App.Time.Advance(TimeSpan.FromMinutes(150));

        var result = await App.ApproveAsync(Erin, late);
        var lapsed = await App.ApproveAsync(Erin, tooLate);

        Assert.Equal(start.AddHours(2), (await App.ActivationAsync(result.ActivationId!.Value)).NotAfter);
        Assert.Equal((ActivationRequestStatus.Lapsed, "Nothing was granted: the requested window has passed."), (lapsed.Status, lapsed.ClosedReason));
    }

    [Fact]
    public async Task MembersOfADisabledApproverGroup_MayNotDecide()
    {
        var group = Guid.NewGuid();
        await App.ChangeAsync(async db =>
        {
            db.Principals.Add(new Principal(group, PrincipalKind.Group, "GA approvers", null));
            db.GroupMemberships.Add(new GroupMembership(group, Carol.Id));
            await db.SaveChangesAsync();
            (await ApprovalArrange.SettingsOf(db, GlobalAdmin)).AddApprover(group);
            (await db.Principals.SingleAsync(p => p.Id == group)).Disable();
        });

        var id = await App.RequestAsync(Alice, GlobalAdmin);

        Assert.Empty(await App.NotificationsAsync(Carol));
        Assert.Empty((await App.QueryAs(Carol, new GetApprovalQueue())).Items);
        await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(Carol, id));
    }

    [Fact]
    public async Task DeactivatingAnActivation_LapsesItsPendingExtension()
    {
        var activationId = await App.ApprovedActivationAsync(Alice, GlobalAdmin, Erin, TimeSpan.FromHours(1));
        var extension = await App.SendAs(Alice, new ExtendActivation(activationId, TimeSpan.FromHours(3), "Still migrating", "CHG42", "ServiceNow", App.CodeFor(Alice)));

        await App.SendAs(Alice, new DeactivateRoles([activationId]));

        Assert.Equal(ActivationRequestStatus.Lapsed, (await App.RequestRowAsync(extension.RequestId)).Status);
        Assert.Empty((await App.QueryAs(Bob, new GetApprovalQueue())).Items);
        Assert.Single(await App.AuditAsync(AuditActions.RequestLapsed));
    }

    [Fact]
    public async Task OnceARequestIsDecided_NoApproversBellKeepsCountingIt()
    {
        var id = await App.RequestAsync(Alice, GlobalAdmin);
        Assert.Equal(1, (await App.QueryAs(Bob, new Core.Features.Notifications.GetMyNotifications())).Unread);

        await App.ApproveAsync(Erin, id);

        Assert.Equal(0, (await App.QueryAs(Bob, new Core.Features.Notifications.GetMyNotifications())).Unread);
        Assert.Equal(0, (await App.QueryAs(Erin, new Core.Features.Notifications.GetMyNotifications())).Unread);
        Assert.Equal(1, (await App.QueryAs(Alice, new Core.Features.Notifications.GetMyNotifications())).Unread);
    }

    [Fact]
    public async Task ACancelledOrExpiredRequest_LeavesTheApproversBellsToo()
    {
        var cancelled = await App.RequestAsync(Alice, GlobalAdmin);
        await App.SendAs(Alice, new CancelActivationRequest(cancelled));
        Assert.Equal(0, (await App.QueryAs(Bob, new Core.Features.Notifications.GetMyNotifications())).Unread);

        App.NextCodeStep();
        await App.RequestAsync(Alice, GlobalAdmin);
        App.Time.Advance(TimeSpan.FromHours(24));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal(0, (await App.QueryAs(Erin, new Core.Features.Notifications.GetMyNotifications())).Unread);
    }

    /// <summary>A group of <paramref name="members"/> made an approver of Global Administrator (the only one, or besides bob and erin).</summary>
    private async Task<Guid> GlobalAdminApproverGroupAsync(bool onlyApprover, params DemoAccount[] members)
    {
        var group = Guid.NewGuid();
        await App.ChangeAsync(async db =>
        {
            db.Principals.Add(new Principal(group, PrincipalKind.Group, "GA approvers", null));
            db.GroupMemberships.AddRange(members.Select(m => new GroupMembership(group, m.Id)));
            await db.SaveChangesAsync();
            var settings = await ApprovalArrange.SettingsOf(db, GlobalAdmin);
            if (onlyApprover)
            {
                settings.RemoveApprover(Bob.Id);
                settings.RemoveApprover(Erin.Id);
            }

            settings.AddApprover(group);
        });
        return group;
    }
}
