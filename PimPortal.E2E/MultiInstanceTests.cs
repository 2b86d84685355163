using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using OtpNet;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.E2E.Infrastructure;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E;

/// <summary>
/// Two separate portal processes on one PostgreSQL database, behind a round-robin load balancer with sticky sessions
/// (YARP): a session opened through one instance is good on the other, a request made on A reaches an approver's
/// queue open on B by itself, and an activation made through A is ended on time exactly once, by whichever worker
/// claims it.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed partial class MultiInstanceTests(Browser browser) : IAsyncLifetime
{
    private SharedDatabase database = null!;
    private PortalProcess a = null!;
    private PortalProcess b = null!;
    private StickyProxy proxy = null!;
    private readonly List<IBrowserContext> contexts = [];

    public async ValueTask InitializeAsync()
    {
        database = await SharedDatabase.CreateAsync(DatabaseProvider.PostgreSql);
        // A migrates the empty database and seeds the demo; B starts on what A made (and shares its key ring).
        // Two instances on one host need names of their own (in containers, each has its host name).
        a = await PortalProcess.StartAsync(database.Settings(("Pim:Jobs:InstanceName", "instance-a")));
        b = await PortalProcess.StartAsync(database.Settings(("Pim:Jobs:InstanceName", "instance-b")));
        proxy = await StickyProxy.StartAsync([a, b]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var context in contexts)
        {
            await context.DisposeAsync();
        }

        await proxy.DisposeAsync();
        await a.DisposeAsync();
        await b.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task ASessionOpenedThroughOneInstance_IsGoodOnTheOther()
    {
        using var viaProxy = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true }) { BaseAddress = new Uri(proxy.BaseUrl) };
        var form = await viaProxy.GetAsync("/signin");
        var landedOn = Assert.Single(form.Headers.GetValues(StickyProxy.InstanceHeader));
        var signIn = await viaProxy.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = Token(await form.Content.ReadAsStringAsync()),
            ["Input.Email"] = DemoOrganisation.Erin.Email,
            ["Input.Password"] = DemoOrganisation.Password,
        }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal(landedOn, Assert.Single(signIn.Headers.GetValues(StickyProxy.InstanceHeader)));
        var session = string.Join("; ", signIn.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => c.StartsWith("PimPortal.Session", StringComparison.Ordinal)));

        // Straight to each instance, with the cookie the one it landed on issued.
        foreach (var instance in new[] { a, b })
        {
            using var direct = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = new Uri(instance.BaseUrl) };
            using var request = new HttpRequestMessage(HttpMethod.Get, "/directory");
            request.Headers.Add("Cookie", session);
            var page = await direct.SendAsync(request);
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{instance.BaseUrl}: {page.StatusCode}");
            Assert.Contains("erin@contoso.test", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ARequestMadeOnA_AppearsInTheQueueOpenOnB_AndAGrantMadeOnA_EndsOnTimeExactlyOnce()
    {
        // Round robin gives Alice's browser one instance and Bob's the other; the affinity cookie keeps each there.
        var (alice, aliceOn) = await SignInThroughProxyAsync(DemoOrganisation.Alice);
        var (bob, bobOn) = await SignInThroughProxyAsync(DemoOrganisation.Bob);
        Assert.NotEqual(aliceOn, bobOn);
        var queue = new ApprovalsPage(bob);
        await queue.OpenAsync();
        await Expect(queue.Empty).ToBeVisibleAsync();

        var myRoles = new MyRolesPage(alice);
        await myRoles.ActivateAsync("Global Administrator", 1, "Conditional access change", CodeFor(DemoOrganisation.Alice), ticket: "CHG2001");
        await Expect(myRoles.PendingRow("Global Administrator")).ToContainTextAsync("Waiting for approval");
        await Expect(queue.Row("Alice Adams", "Global Administrator")).ToContainTextAsync("CHG2001");

        // A grant made on Alice's instance; then its end is brought to two seconds from now (the clock's stand-in).
        await myRoles.ActivateAsync("Exchange Administrator", 1, "Mailbox migration", null);
        await Expect(myRoles.ActiveRow("Exchange Administrator")).ToHaveAttributeAsync("data-status", "Active");
        var end = DateTimeOffset.UtcNow.AddSeconds(2);
        var activation = await database.DbAsync(async db =>
        {
            var id = await db.Activations.Where(x => x.RoleId == DemoOrganisation.ExchangeAdministrator.Id && x.PrincipalId == DemoOrganisation.Alice.Id).Select(x => x.Id).SingleAsync();
            await db.Activations.Where(x => x.Id == id).ExecuteUpdateAsync(s => s.SetProperty(x => x.NotAfter, end));
            return id;
        });

        await Expect(myRoles.ActiveRow("Exchange Administrator")).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        // Ended first (the page shows it at once), then removed from the directory by whichever outbox claims it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await database.DbAsync(db => db.Activations.AnyAsync(x => x.Id == activation && x.RemovedFromDirectoryAt == null)))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "The ended grant was not removed from the directory within 30 s.");
            await Task.Delay(50);
        }

        var (ended, removed, expiredEvents, removedEvents, held) = await database.DbAsync(async db =>
        {
            var row = await db.Activations.AsNoTracking().SingleAsync(x => x.Id == activation);
            var id = activation.ToString();
            return (row.EndedAt, row.RemovedFromDirectoryAt,
                await db.AuditEvents.CountAsync(e => e.TargetId == id && e.Action == AuditActions.ActivationExpired),
                await db.AuditEvents.CountAsync(e => e.TargetId == id && e.Action == AuditActions.ActivationRemovedFromDirectory),
                await db.DirectoryAssignments.CountAsync(d => d.ActivationId == activation));
        });
        Assert.Equal((1, 1, 0), (expiredEvents, removedEvents, held));
        Assert.NotNull(removed);
        Assert.True(ended >= end, $"Ended at {ended:O}, before its end {end:O}.");
        TestContext.Current.TestOutputHelper?.WriteLine($"Two instances: ended {(ended!.Value - end).TotalMilliseconds:0} ms after its end, removed from the directory {(removed!.Value - end).TotalMilliseconds:0} ms after.");
    }

    private async Task<(IPage Page, string Instance)> SignInThroughProxyAsync(DemoAccount who)
    {
        var context = await browser.Instance.NewContextAsync(new() { BaseURL = proxy.BaseUrl });
        contexts.Add(context);
        var page = await Journey.SignInAsync(context, who);

        // The context's requests carry its affinity cookie: they all land where its pages do.
        async Task<string> WhereAsync() => (await context.APIRequest.GetAsync("/healthz")).Headers.GetValueOrDefault(StickyProxy.InstanceHeader.ToLowerInvariant()) ?? "none";
        var instance = await WhereAsync();
        Assert.Equal(instance, await WhereAsync());
        return (page, instance);
    }

    private static string CodeFor(DemoAccount who) => Journey.CodeFor(who);

    private static string Token(string html) =>
        WebUtility.HtmlDecode(TokenPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("No antiforgery token in the page."));

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
