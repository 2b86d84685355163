using Microsoft.EntityFrameworkCore;
using OtpNet;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.E2E.Infrastructure;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E;

/// <summary>Requester and approvers, each in their own browser context, against one real portal.</summary>
[Collection(PortalCollection.Name)]
public sealed class ApprovalJourneyTests(Browser browser) : Journey(browser)
{
    [Fact]
    public async Task BobApprovesAlicesGlobalAdministrator_InHisOwnBrowser_AndAlicesPageShowsItActiveWithoutAReload()
    {
        var bob = await SignInAsync(DemoOrganisation.Bob);
        var queue = new ApprovalsPage(bob);
        await queue.OpenAsync();
        await Expect(queue.Empty).ToBeVisibleAsync();
        var alice = await SignInAsync(DemoOrganisation.Alice);
        var myRoles = new MyRolesPage(alice);

        await myRoles.ActivateAsync("Global Administrator", 1, "Tenant-wide conditional access change", CodeFor(DemoOrganisation.Alice), ticket: "CHG1001");
        await Expect(myRoles.PendingRow("Global Administrator")).ToContainTextAsync("Waiting for approval");

        // Bob's open queue shows it without a reload.
        var row = queue.Row("Alice Adams", "Global Administrator");
        await Expect(row).ToContainTextAsync("Tenant-wide conditional access change");
        await Expect(row).ToContainTextAsync("CHG1001");
        // And his bell counts it; opening it lists the notification and marks it read.
        var bell = bob.GetByRole(AriaRole.Button, new() { Name = "Notifications: 1 unread" });
        await bell.ClickAsync();
        await Expect(bob.GetByText("Approval needed: Alice Adams requests Global Administrator")).ToBeVisibleAsync();
        await Expect(bob.GetByRole(AriaRole.Button, new() { Name = "Notifications: 0 unread" })).ToBeVisibleAsync();
        await bob.Keyboard.PressAsync("Escape");

        await queue.ApproveAsync("Alice Adams", "Global Administrator", "CAB approved CHG1001");
        await Expect(queue.Empty).ToBeVisibleAsync();

        // Alice's page moves from Pending to Active by itself.
        await Expect(myRoles.ActiveRow("Global Administrator")).ToHaveAttributeAsync("data-status", "Active");
        await Expect(myRoles.PendingRow("Global Administrator")).ToHaveCountAsync(0);
        var granted = await AuditAsync(AuditActions.ActivationGranted);
        Assert.Equal(DemoOrganisation.Bob.Id, granted.ActorId);
        Assert.Contains("Bob Brown", granted.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivilegedRoleAdministrator_NeedsBothBobAndErin()
    {
        var alice = await SignInAsync(DemoOrganisation.Alice);
        var myRoles = new MyRolesPage(alice);
        await myRoles.ActivateAsync("Privileged Role Administrator", 1, "Assign a new helpdesk role", CodeFor(DemoOrganisation.Alice), ticket: "CHG1002");
        await Expect(myRoles.PendingRow("Privileged Role Administrator")).ToContainTextAsync("0 of 2");
        var bob = await SignInAsync(DemoOrganisation.Bob);
        var erin = await SignInAsync(DemoOrganisation.Erin);
        var bobsQueue = new ApprovalsPage(bob);
        var erinsQueue = new ApprovalsPage(erin);
        await bobsQueue.OpenAsync();
        await erinsQueue.OpenAsync();

        await bobsQueue.ApproveAsync("Alice Adams", "Privileged Role Administrator");

        await Expect(bobsQueue.Row("Alice Adams", "Privileged Role Administrator")).ToContainTextAsync("You approved; waiting for others");
        await Expect(erinsQueue.Row("Alice Adams", "Privileged Role Administrator")).ToContainTextAsync("Bob Brown approved");
        await Expect(myRoles.PendingRow("Privileged Role Administrator")).ToContainTextAsync("1 of 2");
        await Expect(myRoles.ActiveRow("Privileged Role Administrator")).ToHaveCountAsync(0);

        await erinsQueue.ApproveAsync("Alice Adams", "Privileged Role Administrator");

        await Expect(myRoles.ActiveRow("Privileged Role Administrator")).ToHaveAttributeAsync("data-status", "Active");
        await Expect(bobsQueue.Empty).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Bob_CannotApproveHisOwnRequest_ButErinCan()
    {
        var bob = await SignInAsync(DemoOrganisation.Bob);
        var myRoles = new MyRolesPage(bob);
        await myRoles.ActivateAsync("Global Administrator", 1, "Break a stuck sync", CodeFor(DemoOrganisation.Bob), ticket: "INC2001");
        await Expect(myRoles.PendingRow("Global Administrator")).ToContainTextAsync("Waiting for approval");

        var queue = new ApprovalsPage(bob);
        await queue.OpenAsync();
        await Expect(queue.Empty).ToBeVisibleAsync();
        await bob.GotoAsync($"/requests/{await PendingRequestIdAsync(DemoOrganisation.Bob)}");
        await Expect(bob.Locator("[data-testid=own-request]")).ToHaveTextAsync("This is your request: someone else must decide it.");
        await Expect(bob.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true })).ToHaveCountAsync(0);

        var erin = await SignInAsync(DemoOrganisation.Erin);
        var erinsQueue = new ApprovalsPage(erin);
        await erinsQueue.OpenAsync();
        await erinsQueue.ApproveAsync("Bob Brown", "Global Administrator");

        await Expect(bob.Locator("[data-testid=request-status]")).ToHaveTextAsync("Approved");
        await Expect(bob.Locator("[data-action='activation.granted']")).ToBeVisibleAsync();
    }

    private Task<Guid> PendingRequestIdAsync(DemoAccount who) =>
        DbAsync(db => db.ActivationRequests.Where(r => r.RequesterId == who.Id && r.Status == ActivationRequestStatus.Pending).Select(r => r.Id).SingleAsync());

    private Task<AuditEvent> AuditAsync(string action) => DbAsync(db => db.AuditEvents.SingleAsync(e => e.Action == action));
}
