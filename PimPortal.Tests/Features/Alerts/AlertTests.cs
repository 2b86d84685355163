using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Alerts;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Dashboard;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Alerts;

public sealed class AlertsOnSqlite() : AlertTests(DatabaseKind.Sqlite);

public sealed class AlertsOnPostgreSql() : AlertTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class AlertsOnSqlServer() : AlertTests(DatabaseKind.SqlServer);
#endif

/// <summary>The alerts the background worker evaluates (each against its configured threshold) and break-glass use.</summary>
public abstract class AlertTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;

    public override async ValueTask InitializeAsync() =>
        await StartAsync(new Dictionary<string, string?>
        {
            ["Pim:Alerts:GlobalAdministratorCount"] = "1",
            ["Pim:Alerts:GlobalAdministratorShare"] = "0.5",
            ["Pim:Alerts:StaleAfterDays"] = "30",
            ["Pim:Alerts:FrequentActivationCount"] = "2",
            ["Pim:Alerts:FrequentActivationWindow"] = "1.00:00:00",
        });

    private AlertEvaluator Evaluator => App.Services.GetRequiredService<AlertEvaluator>();

    private Task<IReadOnlyList<AlertView>> AlertsAsync(bool resolved = false) => App.QueryAs(Erin, new GetAlerts(resolved));

    [Fact]
    public async Task RoleWithoutMfa_IsRaised_AndResolvedOnceMfaIsRequired()
    {
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var raised = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.RoleWithoutMfa);

        await App.UpdateSettingsAsync(DemoOrganisation.ExchangeAdministrator, s => s with { RequireMfa = true });
        await App.SendAs(Erin, new EvaluateAlertsNow());

        Assert.Equal(("Exchange Administrator can be activated without MFA", AlertRemediation.RequireMfa, (Guid?)DemoOrganisation.ExchangeAdministrator.Id),
            (raised.Summary, raised.Remediation, raised.RoleId));
        Assert.DoesNotContain(await AlertsAsync(), a => a.Kind == AlertKind.RoleWithoutMfa);
        var resolved = Assert.Single(await AlertsAsync(resolved: true), a => a.Kind == AlertKind.RoleWithoutMfa);
        Assert.Equal("the condition no longer holds", resolved.Resolution);
        Assert.Equal(2, (await App.AuditAsync()).Count(e => e.Action is AuditActions.AlertRaised or AuditActions.AlertResolved && e.RoleId == DemoOrganisation.ExchangeAdministrator.Id));
    }

    [Fact]
    public async Task Evaluating_Again_KeepsOneAlertPerCondition()
    {
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var first = await AlertsAsync();
        App.Time.Advance(TimeSpan.FromMinutes(15));

        await Evaluator.EvaluateAsync(CancellationToken.None);

        var second = await AlertsAsync();
        Assert.Equal(first.Select(a => a.Id).Order(), second.Select(a => a.Id).Order());
        Assert.All(second.Where(a => !a.IsDrift), a => Assert.Equal(TestApp.Start.AddMinutes(15), a.LastSeenAt));
        Assert.Equal(first.Count(a => !a.IsDrift), (await App.AuditAsync(AuditActions.AlertRaised)).Count);
    }

    [Fact]
    public async Task TooManyGlobalAdministrators_CountsEligibleAndStandingHolders_AgainstBothThresholds()
    {
        await Evaluator.EvaluateAsync(CancellationToken.None);

        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.TooManyGlobalAdministrators);

        // alice and bob eligible, the break-glass account standing: 3 of the 3 privileged principals.
        Assert.Equal("3 principals hold or may activate Global Administrator", alert.Summary);
        Assert.Equal(AlertRemediation.ReviewAssignments, alert.Remediation);
    }

    [Fact]
    public async Task TooManyGlobalAdministrators_BelowTheShare_IsNotRaised()
    {
        // Seven more privileged principals, none of them Global Administrator: 3 of 10 is under half.
        await App.ChangeAsync(db =>
        {
            for (var i = 0; i < 7; i++)
            {
                var id = Guid.NewGuid();
                db.Principals.Add(new Principal(id, PrincipalKind.User, $"Helpdesk {i}", $"helpdesk{i}@contoso.test"));
                db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), id, DemoOrganisation.UserAdministrator.Id, "/", TestApp.Start, null, Guid.Empty, TestApp.Start));
            }

            return Task.CompletedTask;
        });

        await Evaluator.EvaluateAsync(CancellationToken.None);

        Assert.DoesNotContain(await AlertsAsync(), a => a.Kind == AlertKind.TooManyGlobalAdministrators);
    }

    [Fact]
    public async Task StaleEligibility_IsRaisedPerRoleAfterTheThreshold_NotForBreakGlass_AndRemovingTheEligibilityResolvesIt()
    {
        var userAdmin = DemoOrganisation.UserAdministrator;
        await App.SendAs(Erin, new SetBreakGlass(DemoOrganisation.Bob.Id, true, "Test: bob's account is for emergencies"));
        App.Time.Advance(TimeSpan.FromDays(29));
        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator);
        App.Time.Advance(TimeSpan.FromDays(2));

        await Evaluator.EvaluateAsync(CancellationToken.None);
        var stale = (await AlertsAsync()).Where(a => a.Kind == AlertKind.StaleEligibility).ToList();
        var unused = await App.QueryAs(Erin, new ListAssignments(AssignmentKind.Eligible, userAdmin.Id, NotActivatedForDays: 30));
        var used = await App.QueryAs(Erin, new ListAssignments(AssignmentKind.Eligible, DemoOrganisation.ExchangeAdministrator.Id, NotActivatedForDays: 30));
        await App.SendAs(Erin, new RemoveEligibility(await App.EligibilityOf(DemoOrganisation.Alice, userAdmin), "Not used for 30 days"));
        await Evaluator.EvaluateAsync(CancellationToken.None);

        // One alert per role: alice's roles but the Exchange Administrator she activated; bob (break-glass) left out.
        Assert.Equal(5, stale.Count);
        var alert = Assert.Single(stale, a => a.RoleId == userAdmin.Id);
        Assert.Equal("Alice Adams has not activated User Administrator in 30 days", alert.Summary);
        Assert.StartsWith("Eligible but not activating: Alice Adams (never).", alert.Detail, StringComparison.Ordinal);
        Assert.Equal(AlertRemediation.ReviewStaleEligibilities, alert.Remediation);
        Assert.Equal(["Alice Adams", "Bob Brown"], unused.Rows.Select(r => r.PrincipalName).Order());
        Assert.Empty(used.Rows);
        Assert.DoesNotContain(await AlertsAsync(), a => a.Kind == AlertKind.StaleEligibility && a.RoleId == userAdmin.Id);
        Assert.Equal(4, (await AlertsAsync()).Count(a => a.Kind == AlertKind.StaleEligibility));
    }

    [Fact]
    public async Task StaleEligibility_ManyUsers_OneAlertNamingTheFirstTen()
    {
        await App.ChangeAsync(db =>
        {
            for (var i = 0; i < 12; i++)
            {
                var id = Guid.NewGuid();
                db.Principals.Add(new Principal(id, PrincipalKind.User, $"Helpdesk {i:00}", $"helpdesk{i}@contoso.test"));
                db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), id, DemoOrganisation.ExchangeAdministrator.Id, "/", TestApp.Start, null, Guid.Empty, TestApp.Start));
            }

            return Task.CompletedTask;
        });
        App.Time.Advance(TimeSpan.FromDays(31));

        await Evaluator.EvaluateAsync(CancellationToken.None);

        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.StaleEligibility && a.RoleId == DemoOrganisation.ExchangeAdministrator.Id);
        Assert.Equal("13 eligible users have not activated Exchange Administrator in 30 days", alert.Summary);
        Assert.EndsWith(" and 3 more. Remove the eligibilities nobody needs (an access review removes many at once).", alert.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FrequentActivation_AboveTheCountInTheWindow_IsRaised()
    {
        var exchange = DemoOrganisation.ExchangeAdministrator;
        for (var i = 0; i < 3; i++)
        {
            var outcome = await App.ActivateAsync(DemoOrganisation.Alice, exchange, TimeSpan.FromMinutes(30));
            await App.SendAs(DemoOrganisation.Alice, new DeactivateRoles([outcome.ActivationId!.Value]));
            App.Time.Advance(TimeSpan.FromHours(1));
        }

        await Evaluator.EvaluateAsync(CancellationToken.None);
        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.FrequentActivation);
        App.Time.Advance(TimeSpan.FromDays(1));
        await Evaluator.EvaluateAsync(CancellationToken.None);

        Assert.Equal("Alice Adams activated Exchange Administrator 3 times in 24 h", alert.Summary);
        Assert.Equal(AlertRemediation.ReviewSettings, alert.Remediation);
        Assert.DoesNotContain(await AlertsAsync(), a => a.Kind == AlertKind.FrequentActivation);
    }

    [Fact]
    public async Task BreakGlass_SignIn_RaisesAnAlert_AndTellsEveryPimAdministratorOnce()
    {
        var audit = App.Services.GetRequiredService<SignInAudit>();
        var breakGlass = DemoOrganisation.BreakGlass;

        await audit.SucceededAsync(breakGlass.Id, breakGlass.Email, new ClientInfo("198.51.100.9", "Browser"), CancellationToken.None);
        await audit.SucceededAsync(breakGlass.Id, breakGlass.Email, new ClientInfo("198.51.100.9", "Browser"), CancellationToken.None);
        await audit.SucceededAsync(DemoOrganisation.Alice.Id, DemoOrganisation.Alice.Email, ClientInfo.Unknown, CancellationToken.None);

        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.BreakGlassUsed);
        Assert.Equal(("Break-glass account Break Glass was used", 2, AlertSeverity.High), (alert.Summary, alert.Occurrences, alert.Severity));
        Assert.Contains("198.51.100.9", alert.Detail, StringComparison.Ordinal);
        var told = Assert.Single(await App.NotificationsAsync(Erin));
        Assert.Equal((NotificationKind.Alert, "/alerts"), (told.Kind, told.Link));
        Assert.Empty(await App.NotificationsAsync(DemoOrganisation.Alice));
    }

    [Fact]
    public async Task BreakGlass_ACommand_IsAUse()
    {
        await App.SendAs(DemoOrganisation.BreakGlass, new Core.Features.Notifications.MarkNotificationsRead());

        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.BreakGlassUsed);
        Assert.Contains("ran MarkNotificationsRead", alert.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BreakGlass_Acknowledged_IsResolved_AndANewUseRaisesItAgain()
    {
        var audit = App.Services.GetRequiredService<SignInAudit>();
        var breakGlass = DemoOrganisation.BreakGlass;
        await audit.SucceededAsync(breakGlass.Id, breakGlass.Email, ClientInfo.Unknown, CancellationToken.None);
        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.BreakGlassUsed);

        var noNote = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Erin, new AcknowledgeAlert(alert.Id, "")));
        await App.SendAs(Erin, new AcknowledgeAlert(alert.Id, "Tenant outage drill, ticket INC-9"));
        var afterAcknowledge = await AlertsAsync();
        await audit.SucceededAsync(breakGlass.Id, breakGlass.Email, ClientInfo.Unknown, CancellationToken.None);

        Assert.StartsWith("Say what you found", noNote.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(afterAcknowledge, a => a.Kind == AlertKind.BreakGlassUsed);
        var again = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.BreakGlassUsed);
        Assert.NotEqual(alert.Id, again.Id);
        Assert.Single(await App.AuditAsync(AuditActions.AlertDismissed));
    }

    [Fact]
    public async Task BreakGlass_CannotAcknowledgeItsOwnAlert()
    {
        // The break-glass account is also a PIM administrator here: the worst case.
        await App.MakePimAdministratorAsync(DemoOrganisation.BreakGlass.Id);
        var breakGlass = new DemoAccount(DemoOrganisation.BreakGlass.Id, DemoOrganisation.BreakGlass.Email, DemoOrganisation.BreakGlass.DisplayName,
            DemoOrganisation.BreakGlass.TotpSecret, PortalPermissions.PimAdministrator);
        await App.Services.GetRequiredService<SignInAudit>().SucceededAsync(breakGlass.Id, breakGlass.Email, ClientInfo.Unknown, CancellationToken.None);
        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.BreakGlassUsed);

        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(breakGlass, new AcknowledgeAlert(alert.Id, "Nothing to see")));

        Assert.Equal("You cannot acknowledge an alert about your own account, or as a break-glass account; ask another PIM administrator.", refused.Message);
        Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.BreakGlassUsed && a.Occurrences == 2);
    }

    [Fact]
    public async Task ConditionAlerts_CannotBeAcknowledgedAway()
    {
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var noMfa = (await AlertsAsync()).First(a => a.Kind == AlertKind.RoleWithoutMfa);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AcknowledgeAlert(noMfa.Id, "Ignore")));

        Assert.Equal("This alert resolves itself once its cause is remedied; use its action instead.", refused.Message);
    }

    [Fact]
    public async Task BreakGlass_IsMarkedAndUnmarked_ByAnAdministratorOnly()
    {
        var forbidden = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(DemoOrganisation.Alice, new SetBreakGlass(DemoOrganisation.Alice.Id, true, "Me")));
        await App.SendAs(Erin, new SetBreakGlass(DemoOrganisation.BreakGlass.Id, false, "Account retired"));

        Assert.Equal("This needs the PimAdministrator permission.", forbidden.Message);
        Assert.False(await App.Db(db => db.Principals.Where(p => p.Id == DemoOrganisation.BreakGlass.Id).Select(p => p.IsBreakGlass).SingleAsync()));
        Assert.Single(await App.AuditAsync(AuditActions.BreakGlassUnmarked));
    }

    [Fact]
    public async Task ARequestNoApproverLeftCanDecide_RaisesAnAlert_ThatAddingAnApproverResolves()
    {
        // Privileged Role Administrator needs 2 of bob and erin. Bob approves; then erin is disabled: one approval is
        // missing, and bob (who gave his already) cannot give it again.
        var role = DemoOrganisation.PrivilegedRoleAdministrator;
        var id = await App.RequestAsync(DemoOrganisation.Alice, role);
        await App.ApproveAsync(DemoOrganisation.Bob, id);
        await Evaluator.EvaluateAsync(CancellationToken.None);
        var whileDecidable = await UndecidableAlertsAsync();
        await App.ChangeAsync(async db => (await db.Principals.SingleAsync(p => p.Id == Erin.Id)).Disable());

        await Evaluator.EvaluateAsync(CancellationToken.None);

        Assert.Empty(whileDecidable);
        var alert = Assert.Single(await UndecidableAlertsAsync());
        Assert.Equal((AlertSeverity.High, (Guid?)DemoOrganisation.Alice.Id, (Guid?)role.Id, (Guid?)id, true),
            (alert.Severity, alert.PrincipalId, alert.RoleId, alert.SubjectId, alert.IsOpen));
        Assert.Equal("Alice Adams's request for Privileged Role Administrator cannot be decided", alert.Summary);
        Assert.Contains("needs 1 more approval, but no approver is left who may give it", alert.Detail, StringComparison.Ordinal);

        // Another approver for the role: the request can be decided again, and the alert resolves itself.
        await App.ChangeAsync(async db => (await ApprovalArrange.SettingsOf(db, role)).AddApprover(DemoOrganisation.Carol.Id));
        await Evaluator.EvaluateAsync(CancellationToken.None);

        var resolved = Assert.Single(await UndecidableAlertsAsync());
        Assert.Equal((alert.Id, false, "the condition no longer holds"), (resolved.Id, resolved.IsOpen, resolved.Resolution));
        Assert.Single(await App.AuditAsync(AuditActions.AlertRaised), e => e.RoleId == role.Id);
    }

    [Fact]
    public async Task ARequestWhoseApproverGroupIsLeftWithOnlyTheRequester_RaisesAnAlert_WithTheRightRemediation()
    {
        // Global Administrator's only approver is a group of alice and carol; alice asks, then carol leaves the group.
        var role = DemoOrganisation.GlobalAdministrator;
        var group = Guid.NewGuid();
        await App.ChangeAsync(async db =>
        {
            db.Principals.Add(new Principal(group, PrincipalKind.Group, "GA approvers", null));
            db.GroupMemberships.AddRange(new GroupMembership(group, DemoOrganisation.Alice.Id), new GroupMembership(group, DemoOrganisation.Carol.Id));
            await db.SaveChangesAsync();
            var settings = await ApprovalArrange.SettingsOf(db, role);
            settings.RemoveApprover(DemoOrganisation.Bob.Id);
            settings.RemoveApprover(Erin.Id);
            settings.AddApprover(group);
        });
        var id = await App.RequestAsync(DemoOrganisation.Alice, role);
        await App.ChangeAsync(db =>
        {
            db.GroupMemberships.Remove(new GroupMembership(group, DemoOrganisation.Carol.Id));
            return Task.CompletedTask;
        });

        await Evaluator.EvaluateAsync(CancellationToken.None);

        var alert = Assert.Single(await AlertsAsync(), a => a.Kind == AlertKind.UndecidableRequest);
        Assert.Equal(((Guid?)id, AlertRemediation.ReviewSettings), (alert.SubjectId, alert.Remediation));
        Assert.Contains("no approver is left who may give it", alert.Detail, StringComparison.Ordinal);
    }

    private Task<List<Alert>> UndecidableAlertsAsync() =>
        App.Db(db => db.Alerts.AsNoTracking().Where(a => a.Kind == AlertKind.UndecidableRequest).ToListAsync());

    [Fact]
    public async Task Dashboard_CountsWhatIsEligibleActiveAndPending_AndActivationsPerDay()
    {
        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator);
        await App.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);
        await Evaluator.EvaluateAsync(CancellationToken.None);

        var dashboard = await App.QueryAs(Erin, new GetDashboard(7));

        Assert.Equal((8, 1, 1), (dashboard.Eligible, dashboard.Active, dashboard.Pending));
        Assert.Equal(7, dashboard.ActivationsPerDay.Count);
        Assert.Equal((new DateOnly(2026, 11, 27), 1), (dashboard.ActivationsPerDay[^1].Day, dashboard.ActivationsPerDay[^1].Activations));
        Assert.Equal(0, dashboard.ActivationsPerDay[0].Activations);
        Assert.Equal((await AlertsAsync()).Count, dashboard.OpenAlerts);
        Assert.Equal(1, dashboard.BreakGlassAccounts);
        Assert.Equal(("Exchange Administrator", 1, 1), (dashboard.ActiveByRole[0].RoleName, dashboard.ActiveByRole[0].Active, dashboard.ActiveByRole[0].Eligible));
    }
}
