using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Auth;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

public sealed class SignInTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory factory;

    public SignInTests(PortalFactory factory) => this.factory = factory;

    [Theory]
    [InlineData("/", "/signin?ReturnUrl=%2F")]
    [InlineData("/directory", "/signin?ReturnUrl=%2Fdirectory")]
    public async Task Anonymous_IsSentToSignIn(string path, string expected)
    {
        var response = await factory.Browser().GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(expected, response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task SignInPage_HasLabelledFieldsAndASignInButton()
    {
        var html = await factory.Browser().GetStringAsync("/signin");

        Assert.Contains("<label for=\"email\">Email</label>", html, StringComparison.Ordinal);
        Assert.Contains("<label for=\"password\">Password</label>", html, StringComparison.Ordinal);
        Assert.Contains("<button type=\"submit\" class=\"auth-submit\">Sign in</button>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithTheDemoPassword_GoesToTheReturnUrl_AndTheSessionWorks()
    {
        var browser = factory.Browser();

        var response = await PortalFactory.SignInAsync(browser, DemoOrganisation.Erin.Email, DemoOrganisation.Password, "/directory");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(("localhost", "/directory"), (response.Headers.Location!.Host, response.Headers.Location.PathAndQuery));
        var directory = await browser.GetStringAsync("/directory");
        Assert.Contains("Break Glass", directory, StringComparison.Ordinal);
        Assert.Contains("erin@contoso.test", directory, StringComparison.Ordinal);
        var audit = await Audit(AuditActions.SignInSucceeded);
        Assert.Contains(audit, e => e.ActorId == DemoOrganisation.Erin.Id);
    }

    [Theory]
    [InlineData("https://evil.example/phish")]
    [InlineData("//evil.example/phish")]
    [InlineData("/\\evil.example/phish")]
    [InlineData("javascript:alert(1)")]
    public async Task SignIn_NeverRedirectsOffTheSite(string returnUrl)
    {
        var response = await PortalFactory.SignInAsync(factory.Browser(), DemoOrganisation.Alice.Email, DemoOrganisation.Password, returnUrl);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(("localhost", "/"), (response.Headers.Location!.Host, response.Headers.Location.PathAndQuery));
    }

    [Fact]
    public async Task SignIn_WithAWrongPassword_SaysSoAndIsAudited()
    {
        var response = await PortalFactory.SignInAsync(factory.Browser(), DemoOrganisation.Dave.Email, "not-the-password");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("The email or password is wrong.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(await Audit(AuditActions.SignInFailed), e => e.TargetId == DemoOrganisation.Dave.Email && e.Outcome == AuditOutcome.Refused);
    }

    [Fact]
    public async Task SignIn_ToADisabledAccount_IsRefused()
    {
        await WithDb(db => db.Principals.Where(p => p.Id == DemoOrganisation.BreakGlass.Id).ExecuteUpdateAsync(s => s.SetProperty(p => p.IsEnabled, false)));

        var response = await PortalFactory.SignInAsync(factory.Browser(), DemoOrganisation.BreakGlass.Email, DemoOrganisation.Password);

        Assert.Contains("This account cannot sign in.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithABadlyFormedEmail_SaysWhatIsWrong()
    {
        var response = await PortalFactory.SignInAsync(factory.Browser(), "not an email", "x");

        Assert.Contains("Enter a valid email address.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Directory_ForSomeoneWithoutThePermission_SaysNoAccess()
    {
        var browser = factory.Browser();
        await PortalFactory.SignInAsync(browser, DemoOrganisation.Bob.Email, DemoOrganisation.Password);

        var denied = await browser.GetAsync("/directory");
        Assert.Equal(("/access-denied", HttpStatusCode.Redirect), (denied.Headers.Location!.AbsolutePath, denied.StatusCode));
        var html = await browser.GetStringAsync(denied.Headers.Location);

        Assert.Contains("You do not have access to this page.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Break Glass", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MyRoles_AfterSignIn_ListsTheUsersRoles()
    {
        var browser = factory.Browser();
        await PortalFactory.SignInAsync(browser, DemoOrganisation.Bob.Email, DemoOrganisation.Password);

        var html = await browser.GetStringAsync("/");

        Assert.Contains("My roles", html, StringComparison.Ordinal);
        Assert.Contains("data-role=\"User Administrator\"", html, StringComparison.Ordinal);
        Assert.Contains("data-role=\"Global Administrator\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-role=\"Exchange Administrator\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_NeedsTheAntiforgeryToken_ThenEndsTheSession()
    {
        var browser = factory.Browser();
        await PortalFactory.SignInAsync(browser, DemoOrganisation.Dave.Email, DemoOrganisation.Password);
        var home = await browser.GetStringAsync("/");

        var forged = await browser.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string> { ["_handler"] = "signout" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        var signedOut = await browser.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signout",
            ["__RequestVerificationToken"] = PortalFactory.Token(home),
        }));
        Assert.Equal(("/signin", HttpStatusCode.Redirect), (signedOut.Headers.Location!.AbsolutePath, signedOut.StatusCode));
        Assert.Contains("You are signed out.", await browser.GetStringAsync("/signout"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);
        Assert.Contains(await Audit(AuditActions.SignedOut), e => e.ActorId == DemoOrganisation.Dave.Id);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/favicon.svg")]
    [InlineData("/signin")]
    public async Task PublicEndpoints_NeedNoSession(string path) =>
        Assert.Equal(HttpStatusCode.OK, (await factory.Browser().GetAsync(path)).StatusCode);

    private Task<List<AuditEvent>> Audit(string action) =>
        WithDb(db => db.AuditEvents.Where(e => e.Action == action).ToListAsync());

    private async Task<T> WithDb<T>(Func<PimDbContext, Task<T>> work)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await using var db = await scope.ServiceProvider.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await work(db);
    }
}

public sealed class ReturnUrlTests
{
    [Theory]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("/", "/")]
    [InlineData("/directory", "/directory")]
    [InlineData("/my-roles?x=1", "/my-roles?x=1")]
    [InlineData("directory", "/")]
    [InlineData("https://evil.example", "/")]
    [InlineData("//evil.example", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("/\tevil", "/")]
    [InlineData("/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x")]
    public void Safe_KeepsOnlyLocalPaths(string? input, string expected) => Assert.Equal(expected, ReturnUrl.Safe(input));
}

public sealed class HostConfigurationTests
{
    [Fact]
    public void EntraMode_WithoutAnAppRegistration_IsRefusedAtStart_NamingEveryMissingSetting()
    {
        using var factory = new PortalFactory().WithWebHostBuilder(b => b.UseSetting("Pim:Mode", "Entra"));

        var error = Assert.Throws<Core.StartupException>(() => factory.CreateClient());

        Assert.Equal(
            ["Pim:Mode is Entra, so the app registration must be configured: set AzureAd:Instance, AzureAd:TenantId, AzureAd:ClientId, " +
             "AzureAd:ClientSecret (or ClientCertificates). See docs/entra-setup.md.",
             "Pim:Graph:TenantId is '': allowed is the directory (tenant) id of the app registration that writes to Graph (Pim:Mode is Entra).",
             "Pim:Graph:ClientId is '': allowed is that app registration's client id (Pim:Mode is Entra).",
             "Pim:Graph:ClientSecret is '': allowed is that app registration's client secret (docs/entra-setup.md) (Pim:Mode is Entra)."],
            error.Problems);
    }

    [Theory]
    [InlineData("Sqlite", null, false)]
    [InlineData("Sqlite", "true", true)]
    [InlineData("PostgreSql", null, true)]
    [InlineData("PostgreSql", "false", false)]
    public void TheChangeFeed_RunsByDefaultOnlyOnASharedServerDatabase(string provider, string? setting, bool runs)
    {
        var options = new Core.PimOptions { Database = { Provider = Enum.Parse<Core.DatabaseProvider>(provider) } };
        options.Jobs.ChangeFeed = setting is null ? null : bool.Parse(setting);

        Assert.Equal(runs, options.RunsChangeFeed);
    }

    [Fact]
    public void TheEmbeddedDefault_RunsItsWorkers_ButNoChangeFeed()
    {
        using var factory = new PortalFactory().WithWebHostBuilder(b => b.UseSetting("Pim:Jobs:Enabled", "true"));

        var hosted = factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().Select(s => s.GetType().Name).ToList();

        Assert.Contains("OutboxWorker", hosted);
        Assert.Contains("ExpiryWorker", hosted);
        Assert.DoesNotContain("ChangeFeedWorker", hosted);
    }
}
