using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Settings;

public sealed class UpdateRoleSettingsOnSqlite() : UpdateRoleSettingsTests(DatabaseKind.Sqlite);

public sealed class UpdateRoleSettingsOnPostgreSql() : UpdateRoleSettingsTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class UpdateRoleSettingsOnSqlServer() : UpdateRoleSettingsTests(DatabaseKind.SqlServer);
#endif

/// <summary>Each setting a PIM administrator changes takes effect on the next activation, and every change is audited.</summary>
public abstract class UpdateRoleSettingsTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;

    [Fact]
    public async Task MaxDuration_ShorterMaximum_RefusesALongerActivation()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { MaxActivationDuration = TimeSpan.FromHours(1) });

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.ActivateAsync(DemoOrganisation.Alice, Exchange, TimeSpan.FromHours(2)));
        var granted = await App.ActivateAsync(DemoOrganisation.Alice, Exchange, TimeSpan.FromHours(1));

        Assert.Equal("The duration 2 h is longer than this role's maximum of 1 h.", refused.Message);
        Assert.Equal(TestApp.Start.AddHours(1), granted.NotAfter);
    }

    [Fact]
    public async Task RequireMfa_TurnedOn_RefusesAnActivationWithoutACode_AndTakesOneWithIt()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireMfa = true });
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, Exchange);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Alice,
            new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Mailbox migration", null, null, null)));
        var granted = await App.SendAs(DemoOrganisation.Alice,
            new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Mailbox migration", null, null, App.CodeFor(DemoOrganisation.Alice)));

        Assert.Contains("enter the code from your authenticator app", refused.Message, StringComparison.OrdinalIgnoreCase);
        Assert.NotNull(granted.Items.Single().ActivationId);
    }

    [Fact]
    public async Task RequireMfa_TurnedOff_NeedsNoCode()
    {
        var userAdmin = DemoOrganisation.UserAdministrator;
        await App.UpdateSettingsAsync(userAdmin, s => s with { RequireMfa = false });
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, userAdmin);

        var result = await App.SendAs(DemoOrganisation.Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Password resets", null, null, null));

        Assert.NotNull(result.Items.Single().ActivationId);
    }

    [Fact]
    public async Task JustificationAndTicket_Required_RefuseAnActivationWithoutThem()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireJustification = true, RequireTicket = true });
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, Exchange);

        var refused = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Alice,
            new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], null, null, null, null)));

        Assert.Equal(["Give a justification.", "Give the ticket number and the ticket system."], refused.Reasons);
    }

    [Fact]
    public async Task JustificationNotRequired_ActivatesWithoutOne()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireJustification = false });
        var eligibility = await App.EligibilityOf(DemoOrganisation.Alice, Exchange);

        var result = await App.SendAs(DemoOrganisation.Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], null, null, null, null));

        Assert.NotNull(result.Items.Single().ActivationId);
    }

    [Fact]
    public async Task Approval_ByBob_MakesTheNextActivationWait_AndOnlyBobMayDecideIt()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireApproval = true, ApprovalsNeeded = 1, Approvers = [DemoOrganisation.Bob.Id], ApprovalTimeout = TimeSpan.FromHours(8) });

        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, Exchange);
        var request = await App.RequestRowAsync(outcome.RequestId);
        var erinRefused = await Assert.ThrowsAsync<ForbiddenException>(() => App.ApproveAsync(DemoOrganisation.Erin, outcome.RequestId));
        var decision = await App.ApproveAsync(DemoOrganisation.Bob, outcome.RequestId);

        Assert.Equal((ActivationRequestStatus.Pending, (Guid?)null), (outcome.RequestStatus, outcome.ActivationId));
        Assert.Equal(TestApp.Start.AddHours(8), request.ExpiresAt);
        Assert.Equal(DecideRequestHandler.NotYours, erinRefused.Message);
        Assert.Equal(ActivationRequestStatus.Approved, decision.Status);
        Assert.Single(await App.NotificationsAsync(DemoOrganisation.Bob), n => n.Kind == NotificationKind.ApprovalRequested);
    }

    [Fact]
    public async Task Approval_TwoOfTwo_NeedsBoth()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireApproval = true, ApprovalsNeeded = 2, Approvers = [DemoOrganisation.Bob.Id, DemoOrganisation.Erin.Id] });

        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, Exchange);
        var first = await App.ApproveAsync(DemoOrganisation.Bob, outcome.RequestId);
        var second = await App.ApproveAsync(DemoOrganisation.Erin, outcome.RequestId);

        Assert.Equal((ActivationRequestStatus.Pending, ActivationRequestStatus.Approved), (first.Status, second.Status));
    }

    [Fact]
    public async Task Approval_TurnedOff_GrantsAtOnce()
    {
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        await App.UpdateSettingsAsync(globalAdmin, s => s with { RequireApproval = false });

        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, globalAdmin, ticket: "INC1");

        Assert.Equal(ActivationRequestStatus.Approved, outcome.RequestStatus);
        Assert.NotNull(outcome.ActivationId);
    }

    [Theory]
    [InlineData(2, 1, "2 approvals cannot be met by 1 approvers.")]
    [InlineData(1, 0, "Approval needs at least one approver.")]
    public async Task Approval_WithTooFewApprovers_IsRefused_AndNothingChanges(int needed, int approvers, string message)
    {
        var before = await App.SettingsAsync(Exchange);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.UpdateSettingsAsync(Exchange, s => s with
        {
            RequireApproval = true, ApprovalsNeeded = needed, Approvers = [.. new[] { DemoOrganisation.Bob.Id }.Take(approvers)],
        }));

        Assert.Equal(message, refused.Message);
        Assert.Equal(before, await App.SettingsAsync(Exchange), new SettingsComparer());
        Assert.Empty(await App.AuditAsync(AuditActions.RoleSettingsChanged));
    }

    [Fact]
    public async Task Approver_UnknownId_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.UpdateSettingsAsync(Exchange, s => s with
        {
            RequireApproval = true, Approvers = [Guid.NewGuid()],
        }));

        Assert.Equal("An approver is not a user or group of the directory.", refused.Message);
    }

    [Fact]
    public async Task Approver_AGroup_ItsMembersDecide()
    {
        var group = DemoOrganisation.ProdDbOperatorsGroupId;
        await App.ChangeAsync(db =>
        {
            db.GroupMemberships.Add(new GroupMembership(group, DemoOrganisation.Dave.Id));
            return Task.CompletedTask;
        });
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireApproval = true, Approvers = [group] });

        var outcome = await App.ActivateAsync(DemoOrganisation.Alice, Exchange);
        var decision = await App.ApproveAsync(DemoOrganisation.Dave, outcome.RequestId);

        Assert.Equal(ActivationRequestStatus.Approved, decision.Status);
        Assert.Equal(["Prod DB Operators"], (await App.SettingsAsync(Exchange)).Approvers.Select(a => a.DisplayName));
    }

    [Fact]
    public async Task Change_IsAuditedWithBeforeAndAfter()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { RequireMfa = true, MaxActivationDuration = TimeSpan.FromHours(2) });

        var audit = Assert.Single(await App.AuditAsync(AuditActions.RoleSettingsChanged));
        using var details = JsonDocument.Parse(audit.Details!);
        var root = details.RootElement;
        Assert.Equal((DemoOrganisation.Erin.Id, Exchange.Id.ToString(), Exchange.Id), (audit.ActorId!.Value, audit.TargetId, audit.RoleId!.Value));
        Assert.Equal(["MaxActivationDuration", "RequireMfa"], root.GetProperty("changed").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal((false, true), (root.GetProperty("before").GetProperty("requireMfa").GetBoolean(), root.GetProperty("after").GetProperty("requireMfa").GetBoolean()));
        Assert.Equal(("08:00:00", "02:00:00"), (root.GetProperty("before").GetProperty("maxActivationDuration").GetString(), root.GetProperty("after").GetProperty("maxActivationDuration").GetString()));
    }

    [Fact]
    public async Task NoChange_WritesNothing()
    {
        var before = await App.SettingsAsync(Exchange);

        var version = await App.SendAs(DemoOrganisation.Erin, new UpdateRoleSettings(Exchange.Id, before.Version, before.Settings));

        Assert.Equal(before.Version, version);
        Assert.Empty(await App.AuditAsync(AuditActions.RoleSettingsChanged));
    }

    [Fact]
    public async Task TwoAdministrators_FromTheSameVersion_TheSecondIsToldToReload()
    {
        var opened = await App.SettingsAsync(Exchange);
        await App.SendAs(DemoOrganisation.Erin, new UpdateRoleSettings(Exchange.Id, opened.Version, opened.Settings with { RequireMfa = true }));

        var conflict = await Assert.ThrowsAsync<ConflictException>(() =>
            App.SendAs(DemoOrganisation.Erin, new UpdateRoleSettings(Exchange.Id, opened.Version, opened.Settings with { RequireTicket = true })));

        Assert.StartsWith("Someone changed this role's settings after you opened them", conflict.Message, StringComparison.Ordinal);
        var now = await App.SettingsAsync(Exchange);
        Assert.Equal((true, false), (now.Settings.RequireMfa, now.Settings.RequireTicket));
    }

    [Fact]
    public async Task BadInput_GetsAnErrorPerField()
    {
        var opened = await App.SettingsAsync(Exchange);

        var invalid = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(DemoOrganisation.Erin, new UpdateRoleSettings(Exchange.Id, opened.Version,
            opened.Settings with { MaxActivationDuration = TimeSpan.FromHours(25), ApprovalTimeout = TimeSpan.FromMinutes(10), MaxEligibilityDays = 0 })));

        Assert.Equal(3, invalid.Errors.Count);
        Assert.Contains("between 30 minutes and 24 hours", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("between 1 hour and 14 days", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("between 1 and 3650 days", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdditionalRecipient_NotAnAddress_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.UpdateSettingsAsync(Exchange, s =>
            s.WithRule(new NotificationRuleInput(RoleNotificationEvent.Activated, false, false, ["soc at contoso"]))));

        Assert.Equal("\"soc at contoso\" is not a mail address (name@example.com).", refused.Message);
    }

    [Fact]
    public async Task OnlyAPimAdministrator_ChangesSettings()
    {
        var opened = await App.SettingsAsync(Exchange);

        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() =>
            App.SendAs(DemoOrganisation.Bob, new UpdateRoleSettings(Exchange.Id, opened.Version, opened.Settings with { RequireMfa = false })));
        var cannotRead = await Assert.ThrowsAsync<ForbiddenException>(() => App.QueryAs(DemoOrganisation.Alice, new GetRoleSettings(Exchange.Id)));

        Assert.Equal("This needs the PimAdministrator permission.", forbidden.Message);
        Assert.Equal("This needs the PimAdministrator permission.", cannotRead.Message);
    }

    [Fact]
    public async Task ActivatedNotification_TellsTheAdministratorsAndTheHolder_WhenTheRoleSaysSo()
    {
        await App.UpdateSettingsAsync(Exchange, s => s.WithRule(new NotificationRuleInput(RoleNotificationEvent.Activated, true, true, [])));

        await App.ActivateAsync(DemoOrganisation.Alice, Exchange);

        var erin = Assert.Single(await App.NotificationsAsync(DemoOrganisation.Erin));
        var alice = Assert.Single(await App.NotificationsAsync(DemoOrganisation.Alice));
        Assert.Equal((NotificationKind.RoleActivated, "Alice Adams activated Exchange Administrator"), (erin.Kind, erin.Subject));
        Assert.Equal(NotificationKind.RoleActivated, alice.Kind);
        Assert.Empty(await App.NotificationsAsync(DemoOrganisation.Bob));
    }

    [Fact]
    public async Task ActivatedNotification_Unset_TellsNobody()
    {
        await App.ActivateAsync(DemoOrganisation.Alice, Exchange);

        Assert.Equal(0, await App.CountAsync<Notification>());
    }

    [Fact]
    public async Task ActivatedNotification_OfAnApprovedRequest_IsSentWhenItIsGranted()
    {
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        await App.UpdateSettingsAsync(globalAdmin, s => s.WithRule(new NotificationRuleInput(RoleNotificationEvent.Activated, true, false, [])));
        var request = await App.RequestAsync(DemoOrganisation.Alice, globalAdmin);
        Assert.DoesNotContain(await App.NotificationsAsync(DemoOrganisation.Erin), n => n.Kind == NotificationKind.RoleActivated);

        await App.ApproveAsync(DemoOrganisation.Bob, request);

        Assert.Single(await App.NotificationsAsync(DemoOrganisation.Erin), n => n.Kind == NotificationKind.RoleActivated);
    }

    [Fact]
    public async Task SettingsList_ShowsEveryRoleWithItsCounts()
    {
        var roles = await App.QueryAs(DemoOrganisation.Erin, new ListRoleSettings());

        Assert.Equal(DemoOrganisation.Roles.Count, roles.Count);
        var globalAdmin = Assert.Single(roles, r => r.RoleId == DemoOrganisation.GlobalAdministrator.Id);
        Assert.Equal((true, 1, 2, 0), (globalAdmin.RequireApproval, globalAdmin.ApprovalsNeeded, globalAdmin.Eligible, globalAdmin.Active));
    }

    [Fact]
    public async Task SearchPrincipals_FindsUsersAndGroupsByNameOrSignInName()
    {
        var byName = await App.QueryAs(DemoOrganisation.Erin, new SearchPrincipals("ali"));
        var groups = await App.QueryAs(DemoOrganisation.Erin, new SearchPrincipals("PROD", PrincipalKind.Group));
        var byUpn = await App.QueryAs(DemoOrganisation.Erin, new SearchPrincipals("erin@contoso"));

        Assert.Equal(["Alice Adams"], byName.Select(p => p.DisplayName));
        Assert.Equal(["Prod DB Operators (group)"], groups.Select(p => p.Label));
        Assert.Equal([DemoOrganisation.Erin.Id], byUpn.Select(p => p.Id));
    }

    private sealed class SettingsComparer : IEqualityComparer<RoleSettingsView>
    {
        public bool Equals(RoleSettingsView? x, RoleSettingsView? y) =>
            x is not null && y is not null && x.Version == y.Version && x.Settings.Differences(y.Settings).Count == 0;

        public int GetHashCode(RoleSettingsView obj) => obj.Version.GetHashCode();
    }

    [Fact]
    public async Task ChangingAProtectedRolesSettings_RaisesAHighAlert_ToTheOtherPimAdministrators_WhichItsAuthorCannotAcknowledge()
    {
        // Bob is a second PIM administrator; erin changes Global Administrator's maximum duration.
        await App.MakePimAdministratorAsync(DemoOrganisation.Bob.Id);
        var globalAdmin = DemoOrganisation.GlobalAdministrator;

        await App.UpdateSettingsAsync(globalAdmin, s => s with { MaxActivationDuration = TimeSpan.FromHours(2) });
        await App.UpdateSettingsAsync(Exchange, s => s with { MaxActivationDuration = TimeSpan.FromHours(2) });

        var alert = Assert.Single(await App.Db(db => db.Alerts.AsNoTracking().Where(a => a.Kind == AlertKind.ProtectedRoleChanged).ToListAsync()));
        Assert.Equal((AlertSeverity.High, (Guid?)globalAdmin.Id, (Guid?)DemoOrganisation.Erin.Id, "Erin Evans changed the settings of Global Administrator"),
            (alert.Severity, alert.RoleId, alert.PrincipalId, alert.Summary));
        Assert.Contains("MaxActivationDuration", alert.Detail, StringComparison.Ordinal);
        var told = Assert.Single(await App.NotificationsAsync(DemoOrganisation.Bob), n => n.Kind == NotificationKind.Alert);
        Assert.Equal(alert.Summary, told.Subject);
        Assert.DoesNotContain(await App.NotificationsAsync(DemoOrganisation.Erin), n => n.Kind == NotificationKind.Alert);

        var own = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(DemoOrganisation.Erin, new Core.Features.Alerts.AcknowledgeAlert(alert.Id, "Mine, intended")));
        Assert.Contains("your own account", own.Message, StringComparison.Ordinal);
        await App.SendAs(DemoOrganisation.Bob, new Core.Features.Alerts.AcknowledgeAlert(alert.Id, "Agreed in the change board"));
        Assert.False((await App.Db(db => db.Alerts.AsNoTracking().SingleAsync(a => a.Id == alert.Id))).IsOpen);
    }

    [Fact]
    public async Task AProtectedRolesSettings_ChangeOnlyWithAFreshCode_UsedOnce()
    {
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        var opened = await App.SettingsAsync(globalAdmin);
        Assert.True(opened.IsProtected);
        UpdateRoleSettings Change(string? code) => new(globalAdmin.Id, opened.Version, opened.Settings with { MaxActivationDuration = TimeSpan.FromHours(3) }, code);

        var withoutCode = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Erin, Change(null)));
        var wrongCode = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Erin, Change(App.WrongCodeFor(DemoOrganisation.Erin))));
        Assert.Equal("Global Administrator guards the whole tenant: enter a code from your authenticator app to change its settings.", withoutCode.Message);
        Assert.Equal("The authenticator code is wrong or has expired.", wrongCode.Message);
        Assert.Equal(opened.Version, (await App.SettingsAsync(globalAdmin)).Version);
        Assert.Equal(0, await App.CountAsync<Alert>());

        var code = App.CodeFor(DemoOrganisation.Erin);
        var saved = await App.SendAs(DemoOrganisation.Erin, Change(code));

        var after = await App.SettingsAsync(globalAdmin);
        Assert.Equal((saved, TimeSpan.FromHours(3)), (after.Version, after.Settings.MaxActivationDuration));
        Assert.Single(await App.AuditAsync(AuditActions.MfaVerified), e => e.ActorId == DemoOrganisation.Erin.Id);

        // The proof just given spares nothing: the next change asks again, and the same code is spent.
        UpdateRoleSettings Next(string? again) => new(globalAdmin.Id, after.Version, after.Settings with { RequireTicket = !after.Settings.RequireTicket }, again);
        await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Erin, Next(null)));
        var replay = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(DemoOrganisation.Erin, Next(code)));
        Assert.Equal("This authenticator code was already used; wait for the next one.", replay.Message);
        Assert.Equal(after.Version, (await App.SettingsAsync(globalAdmin)).Version);

        // Any other role changes as before, without a code.
        var exchange = await App.SettingsAsync(Exchange);
        Assert.False(exchange.IsProtected);
        await App.SendAs(DemoOrganisation.Erin, new UpdateRoleSettings(Exchange.Id, exchange.Version, exchange.Settings with { RequireTicket = true }));
    }
}
