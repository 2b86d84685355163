using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Seed;
using PimPortal.E2E.Infrastructure;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E;

/// <summary>
/// Every page of the portal, walked in a real Chromium under the portal's Content-Security-Policy, reports no violation.
/// Each page ends with a probe the policy must refuse (an eval): its report arriving shows the listener works and that
/// every earlier report of that page has arrived too (reports come in order).
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ContentSecurityPolicyTests(Browser browser) : Journey(browser)
{
    private const string ProbeText = "window.__pimProbeRan = true;";

    // How many refused inline scripts were reported that were not the probe's (the page's own), before this probe.
    private static readonly string ProbeScript = """
            () => {
                const before = window.__pimInline - window.__pimProbes;
                window.__pimProbes++;
                const probe = document.createElement("script");
                probe.textContent = "%PROBE%";
                document.head.appendChild(probe);
                return before;
            }
            """.Replace("%PROBE%", ProbeText, StringComparison.Ordinal);

    // Chromium also logs the probe's refusal on the console, naming the script's hash.
    private static readonly string ProbeHash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ProbeText)));

    private readonly ConcurrentQueue<string> violations = new();

    [Fact]
    public async Task WalkingEveryPage_AsEveryKindOfUser_ReportsNoViolation()
    {
        // Anonymous: the sign-in page, rendered without a circuit.
        var anonymous = await ObservedPageAsync();
        await anonymous.GotoAsync("/signin");
        await ProbeAsync(anonymous, "/signin");

        // Alice asks for Global Administrator (the activation dialog), which makes a request page to see.
        var alice = await SignInObservedAsync(DemoOrganisation.Alice);
        var myRoles = new MyRolesPage(alice);
        await myRoles.ActivateAsync("Global Administrator", 1, "Walk the pages under the policy", CodeFor(DemoOrganisation.Alice), ticket: "CHG4242");
        await Expect(myRoles.PendingRow("Global Administrator")).ToContainTextAsync("Waiting for approval");
        await ProbeAsync(alice, "/ with the activation dialog");
        var request = await DbAsync(db => db.ActivationRequests.Select(r => r.Id).SingleAsync());
        await WalkAsync(alice, "/my-roles", $"/requests/{request}", "/my-audit", "/my-reviews", "/not-found", "/access-denied");

        // Carol creates a review (the new-review form), which makes definition, run and reviewer pages to see.
        var carol = await SignInObservedAsync(DemoOrganisation.Carol);
        await carol.GotoAsync("/reviews/new");
        await Expect(carol.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(carol.GetByRole(AriaRole.Heading, new() { Name = "New access review" })).ToBeVisibleAsync();
        await carol.Locator("#review-name").FillAsync("Walked review");
        await Autocomplete.PickAsync(carol, carol.Locator("#role-search"), "global", "Global Administrator (Directory)");
        await Autocomplete.PickAsync(carol, carol.Locator("#reviewer-search"), "bob", "Bob Brown (bob@contoso.test)");
        await Expect(carol.Locator("[data-reviewer='Bob Brown']")).ToBeVisibleAsync();
        await carol.Locator("[data-testid=review-frequency]").ClickAsync();
        await carol.GetByRole(AriaRole.Option, new() { Name = "One time" }).ClickAsync();
        await carol.Locator("[data-testid=review-create]").ClickAsync();
        await Expect(carol.GetByRole(AriaRole.Heading, new() { Name = "Walked review" })).ToBeVisibleAsync();
        await ProbeAsync(carol, "/reviews/new and its result");
        var review = await DbAsync(db => db.AccessReviewDefinitions.Select(d => d.Id).SingleAsync());
        var run = await DbAsync(db => db.AccessReviewInstances.Select(i => i.Id).SingleAsync());
        await WalkAsync(carol, "/reviews", $"/reviews/{review}", $"/reviews/instances/{run}");

        var bob = await SignInObservedAsync(DemoOrganisation.Bob);
        await WalkAsync(bob, "/approvals", "/my-reviews", $"/my-reviews/{run}");

        var dave = await SignInObservedAsync(DemoOrganisation.Dave);
        await WalkAsync(dave, "/audit");

        // Erin, the PIM administrator: every administration page, a role's settings and the assignment dialog.
        var erin = await SignInObservedAsync(DemoOrganisation.Erin);
        var role = await DbAsync(db => db.PrivilegedRoles.Where(r => r.DisplayName == "Global Administrator").Select(r => r.Id).SingleAsync());
        await WalkAsync(erin, "/", "/approvals", "/assignments", "/directory", "/accounts", "/alerts", "/rollout", "/settings", $"/settings/{role}", "/admin", "/audit");
        await erin.GotoAsync("/assignments");
        await Expect(erin.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await erin.Locator("[data-testid=assign]").ClickAsync();
        await Expect(erin.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await ProbeAsync(erin, "/assignments with the assign dialog");

        Assert.True(violations.IsEmpty, $"{violations.Count} report(s):\n{string.Join('\n', violations)}");
    }

    private async Task WalkAsync(IPage page, params string[] paths)
    {
        foreach (var path in paths)
        {
            await page.GotoAsync(path);
            try
            {
                await Expect(page.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
            }
            catch (PlaywrightException e)
            {
                throw new InvalidOperationException($"{path} did not become interactive; reported: {string.Join(" | ", violations)}", e);
            }
            await ProbeAsync(page, path);
        }
    }

    /// <summary>Adds an inline script the policy must refuse and waits for its report: the page's earlier reports are in.</summary>
    private async Task ProbeAsync(IPage page, string where)
    {
        var unexplained = await page.EvaluateAsync<int>(ProbeScript);
        await page.WaitForFunctionAsync("() => window.__pimInline >= window.__pimProbes");
        Assert.False(await page.EvaluateAsync<bool>("() => window.__pimProbeRan === true"), $"an inline script ran on {where}: the policy does not forbid it");
        if (unexplained > 0)
        {
            violations.Enqueue($"{where}: {unexplained} inline script(s) of the page itself refused");
        }

        foreach (var report in await page.EvaluateAsync<string[]>("() => window.__pimCsp.splice(0)"))
        {
            violations.Enqueue($"{where}: {report}");
        }
    }

    private async Task<IPage> ObservedPageAsync()
    {
        var context = await NewContextAsync();
        return await context.NewPageAsync();
    }

    private async Task<IPage> SignInObservedAsync(DemoAccount who) => await SignInAsync(await NewContextAsync(), who);

    /// <summary>A browser context whose every document counts the refused inline scripts and lists every other report.</summary>
    private async Task<IBrowserContext> NewContextAsync()
    {
        var context = await NewBrowserContextAsync();
        context.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.Contains(ProbeHash, StringComparison.Ordinal))
            {
                violations.Enqueue($"console error on {message.Page?.Url}: {message.Text}");
            }
        };
        await context.AddInitScriptAsync("""
            window.__pimCsp = [];
            window.__pimInline = 0;
            window.__pimProbes = 0;
            document.addEventListener("securitypolicyviolation", e => {
                if (e.blockedURI === "inline" && e.effectiveDirective === "script-src-elem") {
                    window.__pimInline++;
                } else {
                    window.__pimCsp.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
                }
            });
            """);
        return context;
    }
}
