using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Components.Pages.Alerts;
using PimPortal.Components.Pages.Assignments;
using PimPortal.Components.Pages.Dashboard;
using PimPortal.Components.Pages.Directory;
using PimPortal.Components.Pages.Rollout;
using PimPortal.Components.Pages.Settings;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Components;

/// <summary>The administrators' pages against the real Core: what they show, and that their actions take effect.</summary>
public sealed class AdministrationPagesTests : PortalComponentTest
{
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;

    [Fact]
    public async Task RoleSettings_ShowTheCurrentValues_AndSaveTheChangedOnes()
    {
        SignIn(Erin);
        var page = RenderPage<RoleSettingsPage>(new Dictionary<string, object?> { ["RoleId"] = Exchange.Id });
        page.WaitForElement("#max-hours");
        Assert.Equal("8", page.Find("#max-hours").GetAttribute("value"));

        await page.Find("input[data-testid=require-mfa]").ChangeAsync(new ChangeEventArgs { Value = true });
        await page.Find("#max-hours").ChangeAsync(new ChangeEventArgs { Value = "2" });
        await ClickAsync(page.Find("button[data-testid=save-settings]"));

        page.WaitForAssertion(() => Assert.Contains("Settings of Exchange Administrator saved", page.Markup, StringComparison.Ordinal));
        var saved = await SettingsAsync();
        Assert.Equal((true, TimeSpan.FromHours(2)), (saved.RequireMfa, saved.MaxActivationDuration));
    }

    [Fact]
    public async Task RoleSettings_ChangedByAnotherAdministratorMeanwhile_AreNotOverwritten()
    {
        SignIn(Erin);
        var page = RenderPage<RoleSettingsPage>(new Dictionary<string, object?> { ["RoleId"] = Exchange.Id });
        page.WaitForElement("#max-hours");
        var version = await DbAsync(db => db.RoleSettings.Where(s => s.RoleId == Exchange.Id).Select(s => s.Version).SingleAsync());
        await SendAsAsync(Erin, new UpdateRoleSettings(Exchange.Id, version, (await SettingsAsync()) with { RequireTicket = true }));

        await page.Find("input[data-testid=require-mfa]").ChangeAsync(new ChangeEventArgs { Value = true });
        await ClickAsync(page.Find("button[data-testid=save-settings]"));

        page.WaitForAssertion(() => Assert.StartsWith("Someone changed this role's settings after you opened them", page.Find("[data-testid=settings-error]").TextContent.Trim(), StringComparison.Ordinal));
        var saved = await SettingsAsync();
        Assert.Equal((false, true), (saved.RequireMfa, saved.RequireTicket));
    }

    [Fact]
    public async Task RoleSettings_OfAProtectedRole_AskForACode_AndSaveWithIt()
    {
        SignIn(Erin);
        var page = RenderPage<RoleSettingsPage>(new Dictionary<string, object?> { ["RoleId"] = DemoOrganisation.GlobalAdministrator.Id });
        page.WaitForElement("#settings-code");
        Assert.Contains("guards the whole tenant", page.Find("[data-testid=protected-role]").TextContent, StringComparison.Ordinal);
        await page.Find("#max-hours").ChangeAsync(new ChangeEventArgs { Value = "3" });

        await ClickAsync(page.Find("button[data-testid=save-settings]"));
        page.WaitForAssertion(() => Assert.Contains("enter a code from your authenticator app", page.Find("[data-testid=settings-error]").TextContent, StringComparison.Ordinal));
        await page.Find("#settings-code").ChangeAsync(new ChangeEventArgs { Value = CodeFor(Erin) });
        await ClickAsync(page.Find("button[data-testid=save-settings]"));

        page.WaitForAssertion(() => Assert.Contains("Settings of Global Administrator saved", page.Markup, StringComparison.Ordinal));
        Assert.Equal(TimeSpan.FromHours(3), (await SettingsAsync(DemoOrganisation.GlobalAdministrator)).MaxActivationDuration);
    }

    [Fact]
    public async Task Alerts_RequireMfa_RemediatesAndTheAlertGoes()
    {
        SignIn(Erin);
        EnsureServicesComplete();
        await Context.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync(CancellationToken.None);
        var page = RenderPage<AlertsPage>();
        var alert = page.WaitForElement("[data-alert=RoleWithoutMfa]");
        Assert.Contains("Exchange Administrator can be activated without MFA", alert.TextContent, StringComparison.Ordinal);

        await ClickAsync(alert.QuerySelectorAll("button").Single(b => b.TextContent.Contains("Require MFA", StringComparison.Ordinal)));

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-alert=RoleWithoutMfa]")));
        Assert.True((await SettingsAsync()).RequireMfa);
    }

    [Fact]
    public async Task Alerts_RequireMfa_OnAProtectedRole_LeadsToItsSettingsPage_WhereTheCodeIsAskedFor()
    {
        SignIn(Erin);
        EnsureServicesComplete();
        var globalAdmin = DemoOrganisation.GlobalAdministrator;
        await ArrangeAsync(async db =>
        {
            (await db.RoleSettings.SingleAsync(s => s.RoleId == globalAdmin.Id)).SetRequirements(false, true, true);
            await db.SaveChangesAsync();
        });
        await Context.Services.GetRequiredService<AlertEvaluator>().EvaluateAsync(CancellationToken.None);
        var page = RenderPage<AlertsPage>();
        page.WaitForElement("[data-alert=RoleWithoutMfa]");
        var onGlobalAdmin = page.FindAll("[data-alert=RoleWithoutMfa]").Single(a => a.TextContent.Contains("Global Administrator can be activated without MFA", StringComparison.Ordinal));

        await ClickAsync(onGlobalAdmin.QuerySelectorAll("button").Single(b => b.TextContent.Contains("Require MFA", StringComparison.Ordinal)));

        var navigation = Context.Services.GetRequiredService<NavigationManager>();
        page.WaitForAssertion(() => Assert.EndsWith($"/settings/{globalAdmin.Id}", navigation.Uri, StringComparison.Ordinal));
        Assert.False((await SettingsAsync(globalAdmin)).RequireMfa);
    }

    [Fact]
    public async Task Alerts_ABreakGlassUse_AppearsWithoutAReload()
    {
        SignIn(Erin);
        var page = RenderPage<AlertsPage>();
        page.WaitForElement("[data-testid=no-alerts]");

        await Context.Services.GetRequiredService<BreakGlassAlarm>().RecordUseAsync(DemoOrganisation.BreakGlass.Id, "signed in to PimPortal", new Core.ClientInfo("198.51.100.9", null), CancellationToken.None);

        page.WaitForAssertion(() => Assert.Contains("Break-glass account Break Glass was used", page.Find("[data-alert=BreakGlassUsed]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Assignments_ListEligibilities_AndAnotherAdministratorsAssignmentAppearsWithoutAReload()
    {
        SignIn(Erin);
        var page = RenderPage<AssignmentsPage>();
        page.WaitForAssertion(() => Assert.Equal(8, page.FindAll("tr[data-holder]").Count));
        Assert.Contains("8 eligible assignments", page.Find("[data-testid=assignment-total]").TextContent, StringComparison.Ordinal);

        await SendAsAsync(Erin, new AssignEligibility(DemoOrganisation.Dave.Id, Exchange.Id, null, null, "Messaging team"));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr[data-holder='Dave Davis'][data-role='Exchange Administrator']")));
    }

    [Fact]
    public async Task Dashboard_ShowsTheCounts()
    {
        SignIn(Erin);
        await SendAsAsync(Erin, new AssignActive(DemoOrganisation.Dave.Id, Exchange.Id, TestApp.Start.AddDays(1), "Weekend migration"));

        var page = RenderPage<DashboardPage>();

        page.WaitForAssertion(() => Assert.Equal("8", page.Find("[data-testid=tile-eligible] .tile-value").TextContent.Trim()));
        Assert.Equal("1", page.Find("[data-testid=tile-active] .tile-value").TextContent.Trim());
        Assert.Equal("1", page.Find("[data-testid=tile-break-glass] .tile-value").TextContent.Trim());
        Assert.Single(page.FindAll("tr[data-role='Exchange Administrator']"));
    }

    [Fact]
    public async Task Rollout_ImportsStandingAssignments_AndConvertsTheChosen()
    {
        SignIn(Erin);
        EnsureServicesComplete();
        await ArrangeAsync(async db =>
        {
            db.DirectoryAssignments.Add(new DirectoryAssignment(Guid.NewGuid(), DemoOrganisation.Dave.Id, Exchange.Id, "/", null, TestApp.Start, null));
            await db.SaveChangesAsync();
        });
        var page = RenderPage<RolloutPage>();

        await ClickAsync(page.Find("button[data-testid=import]"));
        page.WaitForElement("tr[data-holder='Dave Davis']");
        Assert.Contains("A break-glass account keeps its standing access.", page.Find("tr[data-holder='Break Glass']").TextContent, StringComparison.Ordinal);
        await page.Find("tr[data-holder='Dave Davis'] input[type=checkbox]").ChangeAsync(new ChangeEventArgs { Value = true });
        await page.Find("#rollout-justification").InputAsync(new ChangeEventArgs { Value = "Rollout wave 1" });
        await ClickAsync(page.Find("button[data-testid=convert]"));

        page.WaitForAssertion(() => Assert.Contains("1 of 1 converted", page.Find("[data-testid=rollout-result]").TextContent, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("tr[data-holder='Dave Davis']"));
        Assert.True(await DbAsync(db => db.Eligibilities.AnyAsync(e => e.PrincipalId == DemoOrganisation.Dave.Id && e.RoleId == Exchange.Id)));
    }

    [Fact]
    public async Task Directory_ShowsAStandingRemovalTheDirectoryRefused_WithItsError()
    {
        SignIn(Erin);
        await ArrangeAsync(async db =>
        {
            var eligibility = new RoleEligibility(Guid.NewGuid(), DemoOrganisation.Dave.Id, Exchange.Id, "/", TestApp.Start, null, Erin.Id, TestApp.Start);
            var removal = new StandingRemoval(Guid.NewGuid(), StandingRemovalSource.Rollout, DemoOrganisation.Dave.Id, Exchange.Id, "/", TestApp.Start, eligibility.Id, null,
                "Rollout wave 1", Erin.Id, "Erin Evans", TestApp.Start);
            removal.Failed("Graph refused the change (403 Authorization_RequestDenied)", TestApp.Start);
            db.AddRange(eligibility, removal);
            await db.SaveChangesAsync();
        });

        var page = RenderPage<DirectoryPage>();

        page.WaitForElement("tr[data-removal-holder='Dave Davis']");
        var row = page.Find("tr[data-removal-holder='Dave Davis']");
        Assert.Equal(nameof(StandingRemovalStatus.Failed), row.GetAttribute("data-removal-status"));
        Assert.Contains("403 Authorization_RequestDenied", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("Erin Evans", row.TextContent, StringComparison.Ordinal);
    }

    private Task<RoleSettingsInput> SettingsAsync(DemoRole? role = null) => DbAsync(async db =>
        RoleSettingsInput.From(await db.RoleSettings.Include(s => s.Approvers).Include(s => s.NotificationRules).SingleAsync(s => s.RoleId == (role ?? Exchange).Id)));
}
