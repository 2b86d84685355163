using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using PimPortal.Components.Pages.MyRoles;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Components;

public sealed class MyRolesPageTests : PortalComponentTest
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public void Lists_AlicesSixEligibleRoles_WithWhatEachRequires()
    {
        SignIn(Alice);

        var page = RenderPage<MyRolesPage>();

        var rows = EligibleRows(page);
        Assert.Equal(6, rows.Count);
        var globalAdmin = Row(page, "Global Administrator");
        Assert.Contains("Directory role", globalAdmin.TextContent, StringComparison.Ordinal);
        Assert.Contains("4 h", globalAdmin.TextContent, StringComparison.Ordinal);
        Assert.Contains("Approval (1)", globalAdmin.TextContent, StringComparison.Ordinal);
        Assert.Contains("Ticket", globalAdmin.TextContent, StringComparison.Ordinal);
        Assert.Contains("Permanent", globalAdmin.TextContent, StringComparison.Ordinal);
        var exchange = Row(page, "Exchange Administrator").TextContent;
        Assert.Contains("Justification", exchange, StringComparison.Ordinal);
        Assert.DoesNotContain("MFA", exchange, StringComparison.Ordinal);
        Assert.Contains("No active roles.", page.Markup, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rg-prod", new[] { "Contributor" })]
    [InlineData("ADMIN", new[] { "Exchange Administrator", "Global Administrator", "Privileged Role Administrator", "User Administrator" })]
    [InlineData("no such role", new string[0])]
    public async Task Filter_NarrowsTheListsByRoleOrScope(string filter, string[] expected)
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        await page.Find("input[placeholder='Role or scope']").InputAsync(new ChangeEventArgs { Value = filter });

        Assert.Equal(expected, EligibleRows(page).Select(r => r.GetAttribute("data-role")));
        if (expected.Length == 0)
        {
            Assert.Contains("No eligible roles match the filter.", page.Markup, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Dialog_AsksForWhatTheRoleRequires_AndShowsTheDryRun()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        OpenDialog(Button(page, "Activate Global Administrator"));

        var dialog = page.WaitForElement("[role=dialog]");
        Assert.NotNull(dialog.QuerySelector("#activation-duration"));
        Assert.NotNull(dialog.QuerySelector("#activation-justification"));
        Assert.NotNull(dialog.QuerySelector("#activation-ticket-number"));
        Assert.NotNull(dialog.QuerySelector("#activation-ticket-system"));
        Assert.NotNull(dialog.QuerySelector("#activation-code"));
        var preview = dialog.QuerySelector("[data-testid=policy-preview]")!.TextContent;
        Assert.Contains("Approval by 1 of: Bob Brown, Erin Evans", preview, StringComparison.Ordinal);
        Assert.Contains("Duration of at most 4 h", preview, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dialog_ForARoleWithoutMfaOrTicket_DoesNotAskForThem()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        OpenDialog(Button(page, "Activate Exchange Administrator"));

        var dialog = page.WaitForElement("[role=dialog]");
        Assert.Null(dialog.QuerySelector("#activation-code"));
        Assert.Null(dialog.QuerySelector("#activation-ticket-number"));
        Assert.NotNull(dialog.QuerySelector("#activation-justification"));
    }

    [Fact]
    public async Task Activating_ShowsProvisioningThenActive_WithoutAReload()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        await ActivateThroughTheDialogAsync(page, "Activate User Administrator", "Reset MFA for a user", CodeFor(Alice));

        page.WaitForAssertion(() => Assert.Equal("Provisioning", ActiveRow(page, "User Administrator").GetAttribute("data-status")));
        Assert.Empty(page.FindAll("[role=dialog]"));

        Assert.Equal(1, await RunOutboxAsync());

        page.WaitForAssertion(() => Assert.Equal("Active", ActiveRow(page, "User Administrator").GetAttribute("data-status")));
        Assert.Contains("confirmed in the directory at 09:00:00", ActiveRow(page, "User Administrator").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongCode_IsShownInTheDialog_AndNothingIsActivated()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        await ActivateThroughTheDialogAsync(page, "Activate User Administrator", "Reset MFA", CodeFor(Alice) == "000000" ? "111111" : "000000");

        var error = page.WaitForElement("[data-testid=activation-error]");
        Assert.Contains("The authenticator code is wrong or has expired.", error.TextContent, StringComparison.Ordinal);
        Assert.Contains("No active roles.", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCountdown_TicksAndChangesColourAsTheEndNears()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();
        await ActivateThroughTheDialogAsync(page, "Activate Exchange Administrator", "Mailbox move", code: null);
        var timeLeft = () => page.Find("[data-role='Exchange Administrator'] .time-left");
        page.WaitForAssertion(() => Assert.Equal("1:00:00", timeLeft().TextContent));
        Assert.Equal("normal", timeLeft().GetAttribute("data-urgency"));

        Time.Advance(TimeSpan.FromSeconds(1));
        page.WaitForAssertion(() => Assert.Equal("0:59:59", timeLeft().TextContent));

        Time.Advance(TimeSpan.FromMinutes(30));
        page.WaitForAssertion(() => Assert.Equal("soon", timeLeft().GetAttribute("data-urgency")));

        Time.Advance(TimeSpan.FromMinutes(25));
        page.WaitForAssertion(() => Assert.Equal(("0:04:59", "imminent"), (timeLeft().TextContent, timeLeft().GetAttribute("data-urgency"))));
    }

    [Fact]
    public async Task AJustificationWithMarkup_IsShownAsText()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        await ActivateThroughTheDialogAsync(page, "Activate Exchange Administrator", "<b>bold</b><script>alert(1)</script>", code: null);

        var justification = page.WaitForElement("[data-role='Exchange Administrator'] .justification");
        Assert.Equal("<b>bold</b><script>alert(1)</script>", justification.TextContent);
        Assert.Empty(justification.QuerySelectorAll("b, script"));
    }

    [Fact]
    public async Task TwoRolesSelected_AreActivatedTogether_ThenDeactivatedTogether()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();
        await Check(page, "Select Exchange Administrator");
        await Check(page, "Select Contributor");

        OpenDialog(page.FindAll("button").Single(b => b.TextContent.Contains("Activate selected (2)", StringComparison.Ordinal)));
        await FillDialogAndSubmitAsync(page, "Release night", CodeFor(Alice));

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("section[aria-labelledby=active-heading] tbody tr").Count));

        await Check(page, "Select active Exchange Administrator");
        await Check(page, "Select active Contributor");
        await ClickAsync(page.FindAll("button").Single(b => b.TextContent.Contains("Deactivate selected (2)", StringComparison.Ordinal)));

        page.WaitForAssertion(() => Assert.Contains("No active roles.", page.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Extending_AnActiveRole_MovesItsEndAndTheCountdown()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();
        await ActivateThroughTheDialogAsync(page, "Activate Exchange Administrator", "Mailbox move", code: null);
        page.WaitForAssertion(() => Assert.Equal("1:00:00", page.Find("[data-role='Exchange Administrator'] .time-left").TextContent));
        Time.Advance(TimeSpan.FromMinutes(10));

        OpenDialog(Button(page, "Extend Exchange Administrator"));
        page.WaitForElement("[role=dialog] #activation-duration");
        await page.Find("#activation-duration").InputAsync(new ChangeEventArgs { Value = "3" });
        await page.Find("#activation-justification").ChangeAsync(new ChangeEventArgs { Value = "The move overran" });
        await ClickAsync(DialogButton(page, "Extend"));

        page.WaitForAssertion(() => Assert.Equal("3:00:00", page.Find("[data-role='Exchange Administrator'] .time-left").TextContent));
        Assert.Empty(page.FindAll("[role=dialog]"));
    }

    [Fact]
    public async Task ARequestForAnApprovalRole_IsPendingAndCanBeCancelled()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();
        OpenDialog(Button(page, "Activate Global Administrator"));
        var dialog = page.WaitForElement("[role=dialog]");
        await dialog.QuerySelector("#activation-justification")!.ChangeAsync(new ChangeEventArgs { Value = "Tenant-wide setting" });
        await page.Find("#activation-ticket-number").ChangeAsync(new ChangeEventArgs { Value = "CHG-1" });
        await page.Find("#activation-ticket-system").ChangeAsync(new ChangeEventArgs { Value = "ServiceNow" });
        await page.Find("#activation-code").ChangeAsync(new ChangeEventArgs { Value = CodeFor(Alice) });
        await ClickAsync(DialogButton(page, "Activate"));

        page.WaitForAssertion(() => Assert.Contains("0 of 1", page.Find("section[aria-labelledby=pending-heading]").TextContent, StringComparison.Ordinal));
        Assert.Contains("Pending approval", Row(page, "Global Administrator").TextContent, StringComparison.Ordinal);

        await ClickAsync(Button(page, "Cancel request for Global Administrator"));

        page.WaitForAssertion(() => Assert.Empty(page.FindAll("section[aria-labelledby=pending-heading]")));
    }

    private async Task ActivateThroughTheDialogAsync(IRenderedComponent<IComponent> page, string button, string justification, string? code)
    {
        OpenDialog(Button(page, button));
        await FillDialogAndSubmitAsync(page, justification, code);
    }

    private static async Task FillDialogAndSubmitAsync(IRenderedComponent<IComponent> page, string justification, string? code)
    {
        page.WaitForElement("[role=dialog] #activation-justification");
        await page.Find("#activation-justification").ChangeAsync(new ChangeEventArgs { Value = justification });
        if (code is not null)
        {
            await page.Find("#activation-code").ChangeAsync(new ChangeEventArgs { Value = code });
        }

        await ClickAsync(DialogButton(page, "Activate"));
    }

    /// <summary>
    /// Clicks a button that opens a dialog. Not awaited: the page's handler awaits the dialog's result, which only
    /// comes when the test closes the dialog.
    /// </summary>
    private static void OpenDialog(IElement button) => _ = button.ClickAsync(new MouseEventArgs());

    private static async Task Check(IRenderedComponent<IComponent> page, string label)
    {
        // MudCheckBox names its input through aria-labelledby (a screen-reader-only span), as a browser would read it.
        var box = page.FindAll("input[type=checkbox]").Single(i => page.Find($"#{i.GetAttribute("aria-labelledby")}").TextContent == label);
        await box.ChangeAsync(new ChangeEventArgs { Value = true });
    }

    private static IElement Button(IRenderedComponent<IComponent> page, string label) =>
        page.FindAll("button").Single(b => b.GetAttribute("aria-label") == label);

    private static IElement DialogButton(IRenderedComponent<IComponent> page, string text) =>
        page.Find("[role=dialog]").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == text);

    private static IReadOnlyList<IElement> EligibleRows(IRenderedComponent<IComponent> page) =>
        page.FindAll("section[aria-labelledby=eligible-heading] tbody tr");

    private static IElement Row(IRenderedComponent<IComponent> page, string role) =>
        EligibleRows(page).Single(r => r.GetAttribute("data-role") == role);

    private static IElement ActiveRow(IRenderedComponent<IComponent> page, string role) =>
        page.FindAll("section[aria-labelledby=active-heading] tbody tr").Single(r => r.GetAttribute("data-role") == role);
}
