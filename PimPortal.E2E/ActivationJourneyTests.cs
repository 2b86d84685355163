using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.E2E.Infrastructure;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E;

/// <summary>The eligible admin's journey, in Debian's Chromium against the real portal.</summary>
[Collection(PortalCollection.Name)]
public sealed class ActivationJourneyTests(Browser browser) : IAsyncLifetime
{
    private readonly PortalServer server = new();
    private IBrowserContext context = null!;
    private IPage page = null!;

    public async ValueTask InitializeAsync()
    {
        context = await browser.Instance.NewContextAsync(new() { BaseURL = server.BaseUrl });
        page = await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await context.DisposeAsync();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Alice_ActivatesUserAdministratorWithACode_WatchesTheCountdown_AndDeactivatesIt()
    {
        var myRoles = await SignInAsAliceAsync();

        await myRoles.ActivateAsync("User Administrator", 2, "Reset a locked-out user's MFA", CodeFor(DemoOrganisation.Alice));

        var row = myRoles.ActiveRow("User Administrator");
        await Expect(row).ToHaveAttributeAsync("data-status", "Active");
        await Expect(row).ToContainTextAsync("confirmed in the directory at");
        var timeLeft = myRoles.TimeLeft("User Administrator");
        await Expect(timeLeft).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^1:59:\d\d$"));
        var first = await timeLeft.TextContentAsync();
        await Expect(timeLeft).Not.ToHaveTextAsync(first!, new() { Timeout = 5_000 });
        await Expect(timeLeft).ToHaveAttributeAsync("data-urgency", "normal");

        await myRoles.DeactivateAsync("User Administrator");

        await Expect(page.GetByText("No active roles.")).ToBeVisibleAsync();
        var requested = await AuditAsync(AuditActions.ActivationRequested);
        Assert.Equal(("127.0.0.1", DemoOrganisation.Alice.Id), (requested.ClientAddress, requested.ActorId!.Value));
        Assert.Contains("Chrome", requested.UserAgent, StringComparison.Ordinal);
        Assert.Equal(requested.CorrelationId, (await AuditAsync(AuditActions.ActivationGranted)).CorrelationId);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin$"));
    }

    [Fact]
    public async Task AWrongCode_IsRefused_AndTheDialogSaysWhy()
    {
        var myRoles = await SignInAsAliceAsync();

        await myRoles.ActivateAsync("Contributor", 1, "Deploy hotfix", WrongCodeFor(DemoOrganisation.Alice));

        await Expect(myRoles.DialogError).ToContainTextAsync("The authenticator code is wrong or has expired.");
        await Expect(myRoles.Dialog).ToBeVisibleAsync();
        await Expect(page.GetByText("No active roles.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task TwoRoles_AreActivatedTogether_WithOneJustificationAndOneCode()
    {
        var myRoles = await SignInAsAliceAsync();

        await myRoles.ActivateTogetherAsync(["Exchange Administrator", "Prod DB Operators"], 1.5, "Nightly release", CodeFor(DemoOrganisation.Alice));

        await Expect(myRoles.ActiveRow("Exchange Administrator")).ToHaveAttributeAsync("data-status", "Active");
        await Expect(myRoles.ActiveRow("Prod DB Operators")).ToHaveAttributeAsync("data-status", "Active");
        await Expect(myRoles.TimeLeft("Prod DB Operators")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^1:29:\d\d$"));
    }

    private async Task<MyRolesPage> SignInAsAliceAsync()
    {
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await new SignInPage(page).SignInAsync(DemoOrganisation.Alice.Email, DemoOrganisation.Password);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "My roles" })).ToBeVisibleAsync();
        var myRoles = new MyRolesPage(page);
        await myRoles.WaitUntilInteractiveAsync();
        return myRoles;
    }

    private async Task<AuditEvent> AuditAsync(string action)
    {
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await db.AuditEvents.SingleAsync(e => e.Action == action);
    }

    private static string CodeFor(DemoAccount who, int offsetSteps = 0) => Journey.CodeFor(who, offsetSteps);

    private static string WrongCodeFor(DemoAccount who)
    {
        var valid = new[] { CodeFor(who, -1), CodeFor(who), CodeFor(who, 1), CodeFor(who, 2) };
        return Enumerable.Range(0, 10).Select(i => new string((char)('0' + i), 6)).First(c => !valid.Contains(c));
    }
}
