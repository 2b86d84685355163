using AngleSharp.Dom;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using PimPortal.Components.Pages.Approvals;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Components;

public sealed class ApprovalsPageTests : PortalComponentTest
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;

    [Fact]
    public async Task TheQueue_ShowsTheRequestWithEverythingToDecideOn()
    {
        SignIn(Bob);
        await RequestAsync(Alice, DemoOrganisation.PrivilegedRoleAdministrator);

        var page = RenderPage<ApprovalsPage>();

        var row = page.WaitForElement("tr[data-role='Privileged Role Administrator']");
        var text = row.TextContent;
        Assert.Equal("Alice Adams", row.GetAttribute("data-requester"));
        foreach (var expected in new[] { "alice@contoso.test", "Directory", "Reset a stuck admin account", "Ticket CHG7 (Jira)", "When approved", "1 h", "27 Nov 2026 09:00 UTC", "1 d 0:00:00", "0 of 2" })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }

        Assert.Contains("no SMTP server is configured", page.Find("[data-testid=mail-off]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANewRequest_AppearsWithoutAReload()
    {
        SignIn(Bob);
        var page = RenderPage<ApprovalsPage>();
        page.WaitForElement("[data-testid=queue-empty]");

        await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr[data-role='Global Administrator']")));
    }

    [Fact]
    public async Task AnotherApproversDecision_TakesTheRequestOffTheQueueAtOnce()
    {
        SignIn(Bob);
        var id = await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
        var page = RenderPage<ApprovalsPage>();
        page.WaitForElement("tr[data-role='Global Administrator']");

        await SendAsAsync(DemoOrganisation.Erin, new DecideRequest(id, ApprovalVerdict.Approve, null));

        page.WaitForElement("[data-testid=queue-empty]");
    }

    [Fact]
    public async Task Approving_ThroughTheDialog_GrantsTheRole_AndEmptiesTheQueue()
    {
        SignIn(Bob);
        var id = await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
        var page = RenderPage<ApprovalsPage>();

        OpenDialog(page.WaitForElement("button[aria-label=\"Approve Alice Adams's request for Global Administrator\"]"));
        page.WaitForElement("[role=dialog] #decision-reason");
        await page.Find("#decision-reason").InputAsync(new ChangeEventArgs { Value = "CHG7 checked" });
        await page.Find("[data-testid=decision-submit]").ClickAsync(new MouseEventArgs());

        page.WaitForElement("[data-testid=queue-empty]");
        var activation = await DbAsync(db => db.Activations.AsNoTracking().SingleAsync(a => a.RequestId == id));
        Assert.Equal(Alice.Id, activation.PrincipalId);
    }

    [Fact]
    public async Task Denying_NeedsAReason_BeforeItCanBeSent()
    {
        SignIn(Bob);
        var id = await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
        var page = RenderPage<ApprovalsPage>();

        OpenDialog(page.WaitForElement("button[aria-label=\"Deny Alice Adams's request for Global Administrator\"]"));
        var submit = page.WaitForElement("[data-testid=decision-submit]");
        Assert.True(submit.HasAttribute("disabled"));
        await page.Find("#decision-reason").InputAsync(new ChangeEventArgs { Value = "Not in a change window" });
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=decision-submit]").HasAttribute("disabled")));
        await page.Find("[data-testid=decision-submit]").ClickAsync(new MouseEventArgs());

        page.WaitForElement("[data-testid=queue-empty]");
        Assert.Equal(ActivationRequestStatus.Denied, await DbAsync(db => db.ActivationRequests.Where(r => r.Id == id).Select(r => r.Status).SingleAsync()));
    }

    [Fact]
    public async Task AnApproverWhoAlreadyApproved_SeesItWaitForOthers_WithoutButtons()
    {
        SignIn(Bob);
        var id = await RequestAsync(Alice, DemoOrganisation.PrivilegedRoleAdministrator);
        await SendAsAsync(Bob, new DecideRequest(id, ApprovalVerdict.Approve, null));

        var page = RenderPage<ApprovalsPage>();

        var row = page.WaitForElement("tr[data-role='Privileged Role Administrator']");
        Assert.Contains("You approved; waiting for others", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("Bob Brown approved", row.TextContent, StringComparison.Ordinal);
        Assert.Empty(row.QuerySelectorAll("button"));
    }

    [Fact]
    public async Task ARequestSoonAfterTheRequestersCredentialsWereReset_IsFlagged_InTheQueue()
    {
        SignIn(Bob);
        await RequestAfterAResetAsync();

        var queue = RenderPage<ApprovalsPage>();

        queue.WaitForAssertion(() => Assert.Contains("Credentials reset 27 Nov 2026 09:00 UTC",
            queue.Find("tr[data-role='Global Administrator'] [data-testid=credentials-reset]").TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARequestSoonAfterTheRequestersCredentialsWereReset_IsFlagged_OnItsPage()
    {
        SignIn(Bob);
        var id = await RequestAfterAResetAsync();

        var request = RenderPage<PimPortal.Components.Pages.Requests.RequestPage>(new Dictionary<string, object?> { ["Id"] = id });

        request.WaitForAssertion(() => Assert.Contains("Alice Adams's credentials were reset 27 Nov 2026 09:00 UTC, shortly before this request",
            request.Find("[data-testid=credentials-reset]").TextContent, StringComparison.Ordinal));
    }

    /// <summary>Erin resets alice's authenticator; half a minute later alice asks for Global Administrator with the new one.</summary>
    private async Task<Guid> RequestAfterAResetAsync()
    {
        var issued = await SendAsAsync(DemoOrganisation.Erin, new Core.Features.Accounts.ResetCredentials(Alice.Id, false, true, "Lost phone, ticket HD-4414"));
        Time.Advance(TimeSpan.FromSeconds(30));
        return await RequestAsync(Alice with { TotpSecret = issued.AuthenticatorKey! }, DemoOrganisation.GlobalAdministrator);
    }

    private async Task<Guid> RequestAsync(DemoAccount who, DemoRole role)
    {
        var eligibility = await DbAsync(db => db.Eligibilities.Where(e => e.PrincipalId == who.Id && e.RoleId == role.Id).Select(e => e.Id).SingleAsync());
        var result = await SendAsAsync(who, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Reset a stuck admin account", "CHG7", "Jira", CodeFor(who)));
        return result.Items.Single().RequestId;
    }

    private static void OpenDialog(IElement button) => _ = button.ClickAsync(new MouseEventArgs());
}
