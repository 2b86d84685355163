using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.E2E.Infrastructure;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E;

/// <summary>A PIM administrator shapes the rules in the portal, and the next activation is held to them.</summary>
[Collection(PortalCollection.Name)]
public sealed class AdministrationJourneyTests(Browser browser) : Journey(browser)
{
    [Fact]
    public async Task Erin_MakesExchangeAdministratorRequireBobsApproval_AndAlicesNextActivationWaitsAsPending()
    {
        var erin = await SignInAsync(DemoOrganisation.Erin);
        var settings = new RoleSettingsPage(erin);
        await settings.OpenAsync("Exchange Administrator");

        await settings.RequireApprovalAsync();
        await settings.AddApproverAsync("bob", "Bob Brown (bob@contoso.test)");
        await settings.SaveAsync("Exchange Administrator");

        var alice = await SignInAsync(DemoOrganisation.Alice);
        var myRoles = new MyRolesPage(alice);
        await myRoles.ActivateAsync("Exchange Administrator", 1, "Mailbox permissions for the legal hold", code: null);
        await Expect(myRoles.PendingRow("Exchange Administrator")).ToContainTextAsync("Waiting for approval");
        await Expect(myRoles.ActiveRow("Exchange Administrator")).ToHaveCountAsync(0);

        // Bob, the approver erin named, has it in his queue; erin, no longer an approver of this role, does not.
        var bob = await SignInAsync(DemoOrganisation.Bob);
        var bobsQueue = new ApprovalsPage(bob);
        await bobsQueue.OpenAsync();
        await Expect(bobsQueue.Row("Alice Adams", "Exchange Administrator")).ToContainTextAsync("Mailbox permissions for the legal hold");
        var erinsQueue = new ApprovalsPage(erin);
        await erinsQueue.OpenAsync();
        await Expect(erinsQueue.Empty).ToBeVisibleAsync();

        var change = await DbAsync(db => db.AuditEvents.SingleAsync(e => e.Action == AuditActions.RoleSettingsChanged));
        Assert.Equal(DemoOrganisation.Erin.Id, change.ActorId);
        Assert.Contains("\"RequireApproval\"", change.Details, StringComparison.Ordinal);
        Assert.Contains("Bob Brown", change.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Erin_MakesDaveEligible_AndDaveSeesTheRoleWithoutAReload()
    {
        var dave = await SignInAsync(DemoOrganisation.Dave);
        await Expect(dave.GetByText("No eligible roles.")).ToBeVisibleAsync();
        var erin = await SignInAsync(DemoOrganisation.Erin);
        await erin.GotoAsync("/assignments");
        await Expect(erin.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });

        await erin.Locator("[data-testid=assign]").ClickAsync();
        var dialog = erin.GetByRole(AriaRole.Dialog);
        await Autocomplete.PickAsync(erin, dialog.Locator("#assign-principal"), "dave", "Dave Davis (dave@contoso.test)");
        await dialog.Locator("[data-testid=assign-role]").ClickAsync();
        await erin.GetByRole(AriaRole.Option, new() { Name = "Exchange Administrator (Directory)" }).ClickAsync();
        await Expect(dialog.Locator("[data-testid=assign-rules]")).ToHaveTextAsync("This role allows a permanent assignment.");
        await dialog.GetByLabel("Permanent").CheckAsync();
        await dialog.GetByLabel("Justification").FillAsync("Joins the messaging team");
        await dialog.Locator("[data-testid=assign-submit]").ClickAsync();

        await Expect(erin.Locator("tr[data-holder='Dave Davis'][data-role='Exchange Administrator']")).ToBeVisibleAsync();
        await Expect(dave.GetByRole(AriaRole.Button, new() { Name = "Activate Exchange Administrator", Exact = true })).ToBeVisibleAsync();
    }
    [Fact]
    public async Task Erin_ResetsAlicesPasswordAndAuthenticator_AndAliceSignsInAndActivatesOnlyWithTheNewOnes()
    {
        var erin = await SignInAsync(DemoOrganisation.Erin);
        await erin.GotoAsync("/accounts");
        await Expect(erin.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });

        await Autocomplete.PickAsync(erin, erin.Locator("#reset-user"), "alice", "Alice Adams (alice@contoso.test)");
        await erin.GetByLabel("Authenticator").CheckAsync();
        await erin.GetByLabel("Justification").FillAsync("Lost phone, helpdesk ticket HD-4411");
        await erin.Locator("[data-testid=reset]").ClickAsync();
        var issued = erin.Locator("[data-testid=issued-credentials]");
        await Expect(issued).ToContainTextAsync("New credentials for Alice Adams");
        var password = await erin.Locator("#issued-password").InputValueAsync();
        var key = await erin.Locator("#issued-key").InputValueAsync();
        await erin.Locator("[data-testid=handed-over]").ClickAsync();
        await Expect(issued).ToHaveCountAsync(0);

        // The demo's password no longer signs her in; the one erin handed over does.
        var alice = await (await NewBrowserContextAsync()).NewPageAsync();
        await alice.GotoAsync("/");
        await new SignInPage(alice).SignInAsync(DemoOrganisation.Alice.Email, DemoOrganisation.Password);
        await Expect(alice.GetByRole(AriaRole.Alert)).ToHaveTextAsync("The email or password is wrong.");
        await new SignInPage(alice).SignInAsync(DemoOrganisation.Alice.Email, password);
        await Expect(alice.GetByRole(AriaRole.Heading, new() { Name = "My roles" })).ToBeVisibleAsync();
        var myRoles = new MyRolesPage(alice);
        await myRoles.WaitUntilInteractiveAsync();
        await myRoles.ActivateAsync("User Administrator", 1, "Unlock a colleague's account", CodeFor(DemoOrganisation.Alice with { TotpSecret = key }));
        await Expect(myRoles.ActiveRow("User Administrator")).ToBeVisibleAsync();

        var reset = await DbAsync(db => db.AuditEvents.SingleAsync(e => e.Action == AuditActions.CredentialsReset));
        Assert.Equal(((Guid?)DemoOrganisation.Erin.Id, (Guid?)DemoOrganisation.Alice.Id), (reset.ActorId, reset.SubjectId));
        Assert.True(await DbAsync(db => db.Alerts.AnyAsync(a => a.Kind == AlertKind.CredentialsReset && a.PrincipalId == DemoOrganisation.Alice.Id)));
    }
}
