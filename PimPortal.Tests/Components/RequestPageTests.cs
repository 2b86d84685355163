using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Components.Layout;
using PimPortal.Components.Pages.MyRoles;
using PimPortal.Components.Pages.Requests;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Components;

public sealed class RequestPageTests : PortalComponentTest
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;

    [Fact]
    public async Task TheRequester_SeesTheRequestAndItsTimeline_AndWatchesItGetApproved()
    {
        SignIn(Alice);
        var id = await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

        var page = RenderRequestPage(id);

        page.WaitForAssertion(() => Assert.Equal("Pending approval", page.Find("[data-testid=request-status]").TextContent.Trim()));
        Assert.Contains("This is your request: someone else must decide it.", page.Markup, StringComparison.Ordinal);
        Assert.Contains("Emergency fix for CHG7", page.Find(".justification").TextContent, StringComparison.Ordinal);
        Assert.Single(page.FindAll("[data-action='activation.requested']"));
        Assert.DoesNotContain(page.FindAll("button"), b => b.TextContent.Trim() == "Approve");

        await SendAsAsync(Bob, new DecideRequest(id, ApprovalVerdict.Approve, "ok"));

        page.WaitForAssertion(() => Assert.Equal("Approved", page.Find("[data-testid=request-status]").TextContent.Trim()));
        Assert.Single(page.FindAll("[data-action='activation.granted']"));
        Assert.Contains("Bob Brown approved", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnApprover_DecidesFromTheRequestPage()
    {
        SignIn(Bob);
        var id = await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
        var page = RenderRequestPage(id);

        _ = page.WaitForElement("button.mud-button-filled-success").ClickAsync(new MouseEventArgs());
        await page.WaitForElement("[role=dialog] #decision-reason").InputAsync(new ChangeEventArgs { Value = "Change approved by CAB" });
        await page.Find("[data-testid=decision-submit]").ClickAsync(new MouseEventArgs());

        page.WaitForAssertion(() => Assert.Equal("Approved", page.Find("[data-testid=request-status]").TextContent.Trim()));
        Assert.Equal(ActivationRequestStatus.Approved, await Db(db => db.ActivationRequests.Where(r => r.Id == id).Select(r => r.Status).SingleAsync()));
    }

    [Fact]
    public async Task SomeoneElse_IsToldTheRequestIsNotTheirsToSee()
    {
        SignIn(DemoOrganisation.Carol);
        var id = await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

        var page = RenderRequestPage(id);

        page.WaitForAssertion(() => Assert.Contains("That request does not exist, or you may not see it.", page.Find("[role=alert]").TextContent, StringComparison.Ordinal));
        Assert.DoesNotContain("Emergency fix", page.Markup, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBell_CountsANewRequestLive_AndOpeningItMarksItRead()
    {
        SignIn(Bob);
        var bell = RenderBell();
        Assert.Equal("Notifications: 0 unread", bell.WaitForElement("[data-testid=notification-bell] button").GetAttribute("aria-label"));

        await RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

        bell.WaitForAssertion(() => Assert.Equal("Notifications: 1 unread", bell.Find("[data-testid=notification-bell] button").GetAttribute("aria-label")));
        await bell.Find("[data-testid=notification-bell] button").ClickAsync(new MouseEventArgs());
        bell.WaitForAssertion(() => Assert.Contains("Approval needed: Alice Adams requests Global Administrator", bell.Markup, StringComparison.Ordinal));
        Assert.Contains("In-app only: no mail server is configured.", bell.Markup, StringComparison.Ordinal);
        Assert.Equal(0, await Db(db => db.Notifications.CountAsync(n => n.RecipientId == Bob.Id && n.ReadAt == null)));
    }

    [Fact]
    public async Task AnActivation_ScheduledInTheDialog_WaitsForItsStart()
    {
        SignIn(Alice);
        var page = RenderPage<MyRolesPage>();

        _ = page.WaitForElement("button[aria-label='Activate User Administrator']").ClickAsync(new MouseEventArgs());
        await page.WaitForElement("[role=dialog] input[type=checkbox]").ChangeAsync(new ChangeEventArgs { Value = true });
        await page.WaitForElement("#activation-start").ChangeAsync(new ChangeEventArgs { Value = "2026-11-27T13:30" });
        await page.Find("#activation-justification").ChangeAsync(new ChangeEventArgs { Value = "Weekend maintenance" });
        await page.Find("#activation-code").ChangeAsync(new ChangeEventArgs { Value = CodeFor(Alice) });
        await page.Find("[role=dialog]").QuerySelectorAll("button").Single(b => b.TextContent.Trim() == "Activate").ClickAsync(new MouseEventArgs());

        page.WaitForAssertion(() => Assert.Contains("Scheduled for 27 Nov 2026 13:30 UTC",
            page.Find("section[aria-labelledby=pending-heading] tr[data-role='User Administrator']").TextContent, StringComparison.Ordinal));
        var request = await Db(db => db.ActivationRequests.AsNoTracking().SingleAsync(r => r.RequesterId == Alice.Id));
        Assert.Equal((ActivationRequestStatus.Scheduled, new DateTimeOffset(2026, 11, 27, 13, 30, 0, TimeSpan.Zero)), (request.Status, request.RequestedStart));
        Assert.Empty(await Db(db => db.Activations.Where(a => a.PrincipalId == Alice.Id).ToListAsync()));
    }

    private IRenderedComponent<IComponent> RenderRequestPage(Guid id) =>
        RenderPage<RequestPage>(new Dictionary<string, object?> { [nameof(RequestPage.Id)] = id });

    private IRenderedComponent<IComponent> RenderBell() => RenderPage<NotificationBell>();

    private async Task<Guid> RequestAsync(DemoAccount who, DemoRole role)
    {
        var eligibility = await Db(db => db.Eligibilities.Where(e => e.PrincipalId == who.Id && e.RoleId == role.Id).Select(e => e.Id).SingleAsync());
        var result = await SendAsAsync(who, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Emergency fix for CHG7", "CHG7", "Jira", CodeFor(who)));
        return result.Items.Single().RequestId;
    }

    private async Task<T> Db<T>(Func<PimDbContext, Task<T>> read)
    {
        await using var db = await Context.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await read(db);
    }
}
