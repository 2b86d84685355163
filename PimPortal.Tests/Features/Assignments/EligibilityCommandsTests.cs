using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Assignments;

public sealed class EligibilityCommandsOnSqlite() : EligibilityCommandsTests(DatabaseKind.Sqlite);

public sealed class EligibilityCommandsOnPostgreSql() : EligibilityCommandsTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class EligibilityCommandsOnSqlServer() : EligibilityCommandsTests(DatabaseKind.SqlServer);
#endif

/// <summary>A PIM administrator assigns, removes, extends and renews eligibility; a group's applies to its members.</summary>
public abstract class EligibilityCommandsTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;

    [Fact]
    public async Task Assign_MakesTheUserEligible_AndTheyCanActivate()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(30), "Mailbox project"));

        var mine = await App.QueryAs(Dave, new GetMyRoles());
        var role = Assert.Single(mine.Eligible);
        var outcome = await App.ActivateAsync(Dave, Exchange);

        Assert.Equal((id, "Exchange Administrator", (DateTimeOffset?)TestApp.Start.AddDays(30), true), (role.EligibilityId, role.RoleName, role.NotAfter, role.CanActivate));
        Assert.NotNull(outcome.ActivationId);
        var audit = Assert.Single(await App.AuditAsync(AuditActions.EligibilityCreated));
        Assert.Equal((Erin.Id, Dave.Id, id.ToString()), (audit.ActorId!.Value, audit.SubjectId!.Value, audit.TargetId));
        Assert.Contains("Mailbox project", audit.Details!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assign_InTheFuture_IsNotActivatableUntilItStarts()
    {
        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, TestApp.Start.AddDays(2), null, "Starts after the handover"));

        var before = Assert.Single((await App.QueryAs(Dave, new GetMyRoles())).Eligible);
        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.ActivateAsync(Dave, Exchange));
        App.Time.Advance(TimeSpan.FromDays(2));
        var outcome = await App.ActivateAsync(Dave, Exchange);

        Assert.False(before.CanActivate);
        Assert.StartsWith("Your eligibility starts at", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(outcome.ActivationId);
    }

    [Fact]
    public async Task Assign_PermanentWhereTheRoleDoesNotAllowIt_IsRefused()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { AllowPermanentEligibility = false, MaxEligibilityDays = 90 });

        var permanent = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Project")));
        var tooLong = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(91), "Project")));
        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(90), "Project"));

        Assert.Equal("An eligibility for this role cannot be permanent; it may last at most 90 days.", permanent.Message);
        Assert.Equal("An eligibility for this role may last at most 90 days (until 2027-02-25).", tooLong.Message);
        Assert.Single(await App.EligibilitiesAsync(Dave.Id, Exchange));
    }

    [Fact]
    public async Task Assign_Twice_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<DomainRuleException>(() =>
            App.SendAs(Erin, new AssignEligibility(DemoOrganisation.Alice.Id, Exchange.Id, null, null, "Again")));

        Assert.Equal("Alice Adams is already eligible for Exchange Administrator; extend that eligibility instead.", refused.Message);
    }

    [Fact]
    public async Task Assign_ToADisabledAccount_OrWithoutAReason_IsRefused()
    {
        await App.ChangeAsync(async db => (await db.Principals.SingleAsync(p => p.Id == Dave.Id)).Disable());

        var disabled = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Project")));
        var noReason = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, " ")));

        Assert.Equal("Dave Davis is disabled; enable the account before making it eligible.", disabled.Message);
        Assert.Equal("Say why (it is kept in the audit trail).", noReason.Message);
    }

    [Fact]
    public async Task Assign_ByAnyoneButAPimAdministrator_IsForbidden()
    {
        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() =>
            App.SendAs(DemoOrganisation.Alice, new AssignEligibility(DemoOrganisation.Alice.Id, DemoOrganisation.PrivilegedRoleAdministrator.Id, null, null, "Promote myself")));

        Assert.Equal("This needs the PimAdministrator permission.", forbidden.Message);
        Assert.Empty(await App.AuditAsync(AuditActions.EligibilityCreated));
    }

    [Fact]
    public async Task Assign_ToOneself_OrToAGroupOneIsIn_IsRefused()
    {
        var group = DemoOrganisation.ProdDbOperatorsGroupId;
        await App.ChangeAsync(db =>
        {
            db.GroupMemberships.Add(new GroupMembership(group, Erin.Id));
            return Task.CompletedTask;
        });

        var self = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new AssignEligibility(Erin.Id, Exchange.Id, null, null, "Me")));
        var viaGroup = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new AssignEligibility(group, Exchange.Id, null, null, "My team")));

        Assert.Equal("You cannot assign roles to yourself or to a group you are in; ask another PIM administrator.", self.Message);
        Assert.Equal(self.Message, viaGroup.Message);
        Assert.Empty(await App.AuditAsync(AuditActions.EligibilityCreated));
    }

    [Fact]
    public async Task Assign_WithAnOffset_IsStoredInUtc_AndEndsAtThatInstant()
    {
        var plusTwo = new DateTimeOffset(2026, 12, 1, 11, 0, 0, TimeSpan.FromHours(2));

        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, plusTwo, "Project"));
        var stored = (await App.EligibilitiesAsync(Dave.Id, Exchange)).Single();
        App.Time.SetUtcNow(plusTwo.AddMinutes(-31).ToUniversalTime());
        var justBefore = Assert.Single((await App.QueryAs(Dave, new GetMyRoles())).Eligible);
        App.Time.SetUtcNow(plusTwo.ToUniversalTime());
        var after = (await App.QueryAs(Dave, new GetMyRoles())).Eligible;

        Assert.Equal((TimeSpan.Zero, new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero)), (stored.NotAfter!.Value.Offset, stored.NotAfter.Value));
        Assert.Equal(id, justBefore.EligibilityId);
        Assert.Empty(after);
    }

    [Fact]
    public async Task Assign_TwiceAtTheSameInstant_GivesOneEligibility()
    {
        for (var round = 0; round < 4; round++)
        {
            var user = Guid.NewGuid();
            await App.ChangeAsync(db =>
            {
                db.Principals.Add(new Principal(user, PrincipalKind.User, $"Racer {round}", $"racer{round}@contoso.test"));
                return Task.CompletedTask;
            });

            var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
            {
                try
                {
                    await App.SendAs(Erin, new AssignEligibility(user, Exchange.Id, null, null, "Raced"));
                    return "assigned";
                }
                catch (DomainRuleException ex)
                {
                    return ex.Message;
                }
            }));

            Assert.Single(results, r => r == "assigned");
            Assert.Single(await App.EligibilitiesAsync(user, Exchange));
        }
    }

    [Fact]
    public async Task EndsFoundLongAfterTheFact_AreRecordedInOneEvent()
    {
        await App.ChangeAsync(db =>
        {
            for (var i = 0; i < 3; i++)
            {
                var id = Guid.NewGuid();
                db.Principals.Add(new Principal(id, PrincipalKind.User, $"Former {i}", $"former{i}@contoso.test"));
                db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), id, Exchange.Id, "/", TestApp.Start.AddDays(-60), TestApp.Start.AddDays(-30), Guid.Empty, TestApp.Start.AddDays(-60)));
            }

            return Task.CompletedTask;
        });

        await App.Services.GetRequiredService<EligibilityNotices>().RunAsync(CancellationToken.None);

        var ended = Assert.Single(await App.AuditAsync(AuditActions.EligibilityEnded));
        Assert.Equal("backlog", ended.TargetId);
        Assert.Contains("\"count\":3", ended.Details!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Renew_AfterTheEnd_BeforeTheWorkerRecordedIt_RecordsTheOldEnd()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project"));
        App.Time.Advance(TimeSpan.FromDays(11));

        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(40), "Phase two"));

        var all = await App.EligibilitiesAsync(Dave.Id, Exchange);
        Assert.Equal(2, all.Count);
        Assert.NotNull(all.Single(e => e.Id == id).EndRecordedAt);
        Assert.Equal(id.ToString(), Assert.Single(await App.AuditAsync(AuditActions.EligibilityEnded)).TargetId);
    }

    [Fact]
    public async Task Renew_WeeksAfterTheEnd_RecordsThatEnd_OnItsOwn_AsThePortal()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project"));
        App.Time.Advance(TimeSpan.FromDays(40));

        await App.SendAs(Erin, new RenewEligibility(id, null, "Phase two"));

        // Not folded into a backlog event, and not the administrator's doing: time passed, the portal records it.
        var ended = Assert.Single(await App.AuditAsync(AuditActions.EligibilityEnded));
        Assert.Equal((id.ToString(), (Guid?)Dave.Id, (Guid?)null), (ended.TargetId, ended.SubjectId, ended.ActorId));
    }

    [Fact]
    public async Task Assign_ToAGroup_ItsMembersMayActivate_UntilTheyLeaveIt()
    {
        var group = DemoOrganisation.ProdDbOperatorsGroupId;
        await App.ChangeAsync(db =>
        {
            db.GroupMemberships.Add(new GroupMembership(group, Dave.Id));
            return Task.CompletedTask;
        });
        await App.SendAs(Erin, new AssignEligibility(group, Exchange.Id, null, null, "The operators run the mail servers"));

        var role = Assert.Single((await App.QueryAs(Dave, new GetMyRoles())).Eligible);
        var outcome = await App.SendAs(Dave, new ActivateRoles([new ActivationItem(role.EligibilityId, TimeSpan.FromHours(1))], "Queue cleanup", null, null, null));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        await App.ChangeAsync(async db => db.GroupMemberships.Remove(await db.GroupMemberships.SingleAsync(m => m.GroupId == group && m.MemberId == Dave.Id)));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal("Prod DB Operators", role.ViaGroup);
        var activation = await App.ActivationAsync(outcome.Items.Single().ActivationId!.Value);
        Assert.Equal((Dave.Id, ActivationStatus.Revoked), (activation.PrincipalId, activation.Status));
        var revoked = Assert.Single(await App.AuditAsync(AuditActions.ActivationRevoked));
        Assert.Contains("no longer a member of the eligible group", revoked.Details!, StringComparison.Ordinal);
        Assert.Empty((await App.QueryAs(Dave, new GetMyRoles())).Eligible);
    }

    [Fact]
    public async Task GroupEligibility_IsNotUsableByANonMember()
    {
        var group = DemoOrganisation.ProdDbOperatorsGroupId;
        var id = await App.SendAs(Erin, new AssignEligibility(group, Exchange.Id, null, null, "Operators"));

        var refused = await Assert.ThrowsAsync<RefusedException>(() =>
            App.SendAs(Dave, new ActivateRoles([new ActivationItem(id, TimeSpan.FromHours(1))], "Not mine", null, null, null)));

        Assert.Equal("You are not eligible for this role.", refused.Message);
    }

    [Fact]
    public async Task Remove_RevokesWhatWasActivatedFromIt()
    {
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, Exchange);
        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, Exchange);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        await App.SendAs(Erin, new RemoveEligibility(eligibility, "Left the mail team"));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var activation = await App.ActivationAsync(outcome.ActivationId!.Value);
        Assert.Equal(ActivationStatus.Revoked, activation.Status);
        Assert.NotNull(activation.RemovedFromDirectoryAt);
        Assert.DoesNotContain((await App.QueryAs(DemoOrganisation.Alice, new GetMyRoles())).Eligible, e => e.RoleName == Exchange.DisplayName);
        var removed = Assert.Single(await App.AuditAsync(AuditActions.EligibilityRemoved));
        Assert.Contains("Left the mail team", removed.Details!, StringComparison.Ordinal);
        var again = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new RemoveEligibility(eligibility, "Twice")));
        Assert.Equal("This eligibility was already removed.", again.Message);
    }

    [Fact]
    public async Task Remove_LapsesTheRequestsWaitingForApproval_AndTellsTheRequester()
    {
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, globalAdmin);
        var request = await App.RequestAsync(DemoOrganisation.Alice, globalAdmin);

        await App.SendAs(Erin, new RemoveEligibility(eligibility, "Left the tenant team"));

        var lapsed = await App.RequestRowAsync(request);
        Assert.Equal((ActivationRequestStatus.Lapsed, "Nothing was granted: the eligibility was removed."), (lapsed.Status, lapsed.ClosedReason));
        Assert.Empty((await App.QueryAs(DemoOrganisation.Bob, new Core.Features.Approvals.GetApprovalQueue(null))).Items);
        Assert.Contains(await App.NotificationsAsync(DemoOrganisation.Alice), n => n.Subject == "Your request for Global Administrator was not carried out");
        Assert.All(await App.NotificationsAsync(DemoOrganisation.Bob), n => Assert.NotNull(n.ReadAt));
    }

    [Fact]
    public async Task Extend_MovesTheEnd_AndIsRefusedWhenItEndedOrIsPermanent()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project"));

        await App.SendAs(Erin, new ExtendEligibility(id, TestApp.Start.AddDays(40), "Project runs longer"));
        var earlier = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new ExtendEligibility(id, TestApp.Start.AddDays(20), "Shorter")));
        var alices = await App.EligibilityOf(DemoOrganisation.Alice, Exchange);
        var permanent = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new ExtendEligibility(alices, TestApp.Start.AddDays(20), "Already permanent")));
        App.Time.Advance(TimeSpan.FromDays(41));
        var ended = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new ExtendEligibility(id, TestApp.Start.AddDays(60), "Too late")));

        Assert.Equal(TestApp.Start.AddDays(40), (await App.EligibilitiesAsync(Dave.Id, Exchange)).Single().NotAfter);
        Assert.Equal("An extension must end after the current end (2027-01-06 09:00 UTC).", earlier.Message);
        Assert.Equal("This eligibility is permanent already.", permanent.Message);
        Assert.Equal("This eligibility has ended; renew it instead.", ended.Message);
        Assert.Single(await App.AuditAsync(AuditActions.EligibilityExtended));
    }

    [Fact]
    public async Task Renew_AnEndedEligibility_MakesANewOne_AndIsRefusedWhileItLasts()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project"));
        var early = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new RenewEligibility(id, TestApp.Start.AddDays(30), "Too early")));
        App.Time.Advance(TimeSpan.FromDays(11));

        var renewed = await App.SendAs(Erin, new RenewEligibility(id, TestApp.Start.AddDays(60), "Phase two"));

        Assert.Equal("This eligibility has not ended; extend it instead.", early.Message);
        var all = await App.EligibilitiesAsync(Dave.Id, Exchange);
        Assert.Equal([id, renewed], all.Select(e => e.Id));
        Assert.Equal((TestApp.Start.AddDays(11), (DateTimeOffset?)TestApp.Start.AddDays(60)), (all[1].NotBefore, all[1].NotAfter));
        var activated = await App.SendAs(Dave, new ActivateRoles([new ActivationItem(renewed, TimeSpan.FromHours(1))], "Phase two work", null, null, null));
        Assert.NotNull(activated.Items.Single().ActivationId);
        Assert.Single(await App.AuditAsync(AuditActions.EligibilityRenewed));
    }

    [Fact]
    public async Task EndingSoon_TellsTheHolderOnce_AndTheEndIsRecordedAndEnforced()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(20), "Project"));
        var notices = App.Services.GetRequiredService<EligibilityNotices>();

        await notices.RunAsync(CancellationToken.None);
        var tooEarly = await App.NotificationsAsync(Dave);
        App.Time.Advance(TimeSpan.FromDays(7));
        await notices.RunAsync(CancellationToken.None);
        await notices.RunAsync(CancellationToken.None);
        var told = await App.NotificationsAsync(Dave);
        App.Time.Advance(TimeSpan.FromDays(13) - TimeSpan.FromHours(1));
        var tooLong = await Assert.ThrowsAsync<RefusedException>(() => App.ActivateAsync(Dave, Exchange, TimeSpan.FromHours(2)));
        App.Time.Advance(TimeSpan.FromHours(1));
        await notices.RunAsync(CancellationToken.None);
        var afterEnd = await Assert.ThrowsAsync<RefusedException>(() => App.ActivateAsync(Dave, Exchange));

        Assert.Empty(tooEarly);
        var notice = Assert.Single(told);
        Assert.Equal((NotificationKind.EligibilityEnding, "Your eligibility for Exchange Administrator ends 2026-12-17"), (notice.Kind, notice.Subject));
        Assert.Single(await App.AuditAsync(AuditActions.EligibilityEndingNotice));
        var ended = Assert.Single(await App.AuditAsync(AuditActions.EligibilityEnded));
        Assert.Equal(id.ToString(), ended.TargetId);
        Assert.StartsWith("Your eligibility ends at 2026-12-17 09:00:00Z, so the activation must end by then", tooLong.Message, StringComparison.Ordinal);
        Assert.Equal("Your eligibility ended at 2026-12-17 09:00:00Z.", afterEnd.Message);
        Assert.Empty((await App.QueryAs(Dave, new GetMyRoles())).Eligible);
    }

    [Fact]
    public async Task ExtendingAfterTheNotice_TellsAgainBeforeTheNewEnd()
    {
        var id = await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project"));
        var notices = App.Services.GetRequiredService<EligibilityNotices>();
        await notices.RunAsync(CancellationToken.None);

        await App.SendAs(Erin, new ExtendEligibility(id, TestApp.Start.AddDays(40), "Longer"));
        await notices.RunAsync(CancellationToken.None);
        App.Time.Advance(TimeSpan.FromDays(30));
        await notices.RunAsync(CancellationToken.None);

        Assert.Equal(2, (await App.NotificationsAsync(Dave)).Count(n => n.Kind == NotificationKind.EligibilityEnding));
    }

    [Fact]
    public async Task EligibilityAssignedNotification_TellsTheAssignee_WhenTheRoleSaysSo()
    {
        await App.UpdateSettingsAsync(Exchange, s => s.WithRule(new Core.Features.Settings.NotificationRuleInput(RoleNotificationEvent.EligibilityAssigned, false, true, [])));

        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Project"));

        var notice = Assert.Single(await App.NotificationsAsync(Dave));
        Assert.Equal((NotificationKind.EligibilityAssigned, "Dave Davis is now eligible for Exchange Administrator"), (notice.Kind, notice.Subject));
    }

    [Fact]
    public async Task List_ShowsEligibilitiesWithTheirState()
    {
        await App.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(5), "Short project"));

        var page = await App.QueryAs(Erin, new ListAssignments(AssignmentKind.Eligible, Exchange.Id));
        var byHolder = await App.QueryAs(Erin, new ListAssignments(AssignmentKind.Eligible, null, "dave"));

        Assert.Equal(2, page.Total);
        Assert.Equal([("Dave Davis", AssignmentState.EndingSoon), ("Alice Adams", AssignmentState.Current)], page.Rows.Select(r => (r.PrincipalName, r.State)));
        Assert.Equal(["Dave Davis"], byHolder.Rows.Select(r => r.PrincipalName));
    }
}
