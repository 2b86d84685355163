using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.E2E.Infrastructure;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E;

/// <summary>A governance lead runs an access review; the reviewer's denial removes the access, and the audit says why.</summary>
[Collection(PortalCollection.Name)]
public sealed class AccessReviewJourneyTests(Browser browser) : Journey(browser)
{
    private const string Reason = "Moved to finance; no longer runs the tenant";

    [Fact]
    public async Task Carol_ReviewsGlobalAdministrator_BobDeniesAlice_AndAfterTheEndAliceIsNoLongerEligible()
    {
        // Carol creates a one-time review of Global Administrator with bob as the reviewer.
        var carol = await SignInAsync(DemoOrganisation.Carol);
        await carol.GotoAsync("/reviews");
        await Expect(carol.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await carol.Locator("[data-testid=new-review]").ClickAsync();
        await Expect(carol.GetByRole(AriaRole.Heading, new() { Name = "New access review" })).ToBeVisibleAsync();
        await carol.Locator("#review-name").FillAsync("Global Administrator review");
        await Autocomplete.PickAsync(carol, carol.Locator("#role-search"), "global", "Global Administrator (Directory)");
        await Expect(carol.Locator("[data-testid=review-roles] [data-role='Global Administrator']")).ToBeVisibleAsync();
        await Autocomplete.PickAsync(carol, carol.Locator("#reviewer-search"), "bob", "Bob Brown (bob@contoso.test)");
        await Expect(carol.Locator("[data-reviewer='Bob Brown']")).ToBeVisibleAsync();
        await carol.Locator("[data-testid=review-frequency]").ClickAsync();
        await carol.GetByRole(AriaRole.Option, new() { Name = "One time" }).ClickAsync();
        await carol.Locator("[data-testid=review-create]").ClickAsync();

        await Expect(carol.GetByRole(AriaRole.Heading, new() { Name = "Global Administrator review" })).ToBeVisibleAsync();
        await Expect(carol.Locator("[data-testid=review-runs] [data-testid=review-progress]")).ToContainTextAsync("0 of 2 decided");

        // Bob sees alice's line (not his own), with its recommendation, and denies it with a reason.
        var bob = await SignInAsync(DemoOrganisation.Bob);
        await bob.GotoAsync("/my-reviews");
        await bob.Locator("[data-testid=my-review]").Filter(new() { HasText = "Global Administrator review" }).ClickAsync();
        var line = bob.Locator("tr[data-line='Alice Adams'][data-role='Global Administrator']");
        await Expect(line.Locator("[data-testid=recommendation-reason]")).ToHaveTextAsync("Never activated.");
        await Expect(bob.Locator("tr[data-line='Bob Brown']")).ToHaveCountAsync(0);
        await bob.Locator("#review-reason").FillAsync(Reason);
        await line.Locator("[data-testid=deny]").ClickAsync();
        await Expect(line).ToHaveAttributeAsync("data-decision", "Deny");
        await Expect(bob.Locator("[data-testid=my-progress]")).ToContainTextAsync("1 of 1 decided");

        // Carol ends the review; the portal applies the results (auto-apply) and removes alice's eligibility.
        await carol.Locator("[data-testid=open-run]").ClickAsync();
        await Expect(carol.Locator("[data-testid=review-tally]")).ToContainTextAsync("Denied 1");
        await carol.Locator("[data-testid=review-end-now]").ClickAsync();
        var dialog = carol.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Reason").FillAsync("Quarter closes early");
        await dialog.Locator("[data-testid=reason-submit]").ClickAsync();
        await Expect(carol.Locator("[data-testid=review-progress]")).ToHaveAttributeAsync("data-status", new System.Text.RegularExpressions.Regex("Completed|Applying|Applied"));
        await WaitAsync(async () => await DbAsync(db => db.AccessReviewInstances.AnyAsync(i => i.Status == ReviewInstanceStatus.Applied)));
        await carol.ReloadAsync();
        await Expect(carol.Locator("tr[data-line='Alice Adams'] [data-testid=outcome]")).ToHaveTextAsync("Removed");

        // Alice can no longer activate Global Administrator, and her audit shows why.
        var alice = await SignInAsync(DemoOrganisation.Alice);
        await Expect(alice.GetByRole(AriaRole.Button, new() { Name = "Activate Global Administrator", Exact = true })).ToHaveCountAsync(0);
        await Expect(alice.GetByRole(AriaRole.Button, new() { Name = "Activate Exchange Administrator", Exact = true })).ToBeVisibleAsync();
        await alice.GotoAsync("/my-audit");
        var removal = alice.Locator("tr[data-action='eligibility.removed']");
        await Expect(removal).ToContainTextAsync(Reason);
        await Expect(removal).ToContainTextAsync("Bob Brown");

        var eligibility = await DbAsync(db => db.Eligibilities.SingleAsync(e => e.PrincipalId == DemoOrganisation.Alice.Id && e.RoleId == DemoOrganisation.GlobalAdministrator.Id));
        Assert.NotNull(eligibility.RemovedAt);
    }

    /// <summary>Waits (polling, at most 15 seconds) until the portal's worker has done what <paramref name="done"/> checks.</summary>
    private static async Task WaitAsync(Func<Task<bool>> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!await done())
        {
            await Task.Delay(50, timeout.Token);
        }
    }
}
