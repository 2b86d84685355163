using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Tests.Web;

/// <summary>Entra mode's sign-in and step-up configuration, through the whole web host (no tenant needed).</summary>
public sealed class EntraSignInTests : IClassFixture<EntraFactory>
{
    private readonly EntraFactory factory;

    public EntraSignInTests(EntraFactory factory) => this.factory = factory;

    [Fact]
    public async Task AnAnonymousVisit_GoesToMicrosoftsSignIn_WithTheAppRegistration()
    {
        var response = await factory.Browser().GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal($"https://login.microsoftonline.com/{EntraFactory.TenantId}/oauth2/v2.0/authorize", location.GetLeftPart(UriPartial.Path));
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        Assert.Equal((EntraFactory.ClientId, "code", "http://localhost/signin-oidc"), (query["client_id"], query["response_type"], query["redirect_uri"]));
        Assert.Contains("openid", query["scope"], StringComparison.Ordinal);
        Assert.Null(query["claims"]);
    }

    [Fact]
    public async Task FormsMayLeadToEntrasSignInHost_WhereSigningOutRedirects_AndNowhereElse()
    {
        var response = await factory.Browser().GetAsync("/healthz");

        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("; form-action 'self' https://login.microsoftonline.com;", policy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSignInEndpoint_Challenges_AndAnAbsoluteReturnAddressIsNotKept()
    {
        var response = await factory.Browser().GetAsync("/entra/signin?returnUrl=https%3A%2F%2Fevil.example%2F");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("https://login.microsoftonline.com/", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", response.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheStepUp_AsksEntraForTheAuthenticationContext()
    {
        var user = await factory.UserAsync();
        var stepUp = await factory.StepUpAsync(user);

        var browser = factory.Browser(user);
        browser.DefaultRequestHeaders.Add("Cookie", $"pim-stepup-{stepUp}={EntraFactory.BrowserNonce}");

        var response = await browser.GetAsync($"/stepup/{stepUp}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        Assert.Equal("""{"id_token":{"acrs":{"essential":true,"value":"c1"}}}""", query["claims"]);
    }

    [Fact]
    public async Task AStepUpLinkOpenedInAnotherBrowser_IsNotStarted_EvenForItsOwnUser()
    {
        var user = await factory.UserAsync();
        var stepUp = await factory.StepUpAsync(user);
        var elsewhere = factory.Browser(user);
        elsewhere.DefaultRequestHeaders.Add("Cookie", $"pim-stepup-{stepUp}=a-guess");

        var withoutSecret = await factory.Browser(user).GetAsync($"/stepup/{stepUp}");
        var withWrongSecret = await elsewhere.GetAsync($"/stepup/{stepUp}");

        Assert.Equal($"/?stepup-failed={stepUp}", withoutSecret.Headers.Location!.ToString());
        Assert.Equal($"/?stepup-failed={stepUp}", withWrongSecret.Headers.Location!.ToString());
    }

    [Theory]
    [InlineData("", "/?")]
    [InlineData("?then=%2Fsettings%2F62e90394", "/settings/62e90394?")]
    [InlineData("?then=%2Freviews%3Ftab%3D2", "/reviews?tab=2&")]
    [InlineData("?then=https%3A%2F%2Fevil.example%2F", "/?")]
    [InlineData("?then=%2F%2Fevil.example", "/?")]
    public async Task SomeoneElsesStepUp_IsNotStarted_AndTheWayBackStaysOnTheSite(string then, string back)
    {
        var owner = await factory.UserAsync();
        var other = await factory.UserAsync();
        var stepUp = await factory.StepUpAsync(owner);

        var response = await factory.Browser(other).GetAsync($"/stepup/{stepUp}{then}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{back}stepup-failed={stepUp}", response.Headers.Location!.ToString());
    }

    [Fact]
    public async Task PortalPermissions_ComeFromTheTokensAppRoles()
    {
        var admin = await factory.UserAsync("PimAdministrator");
        var plain = await factory.UserAsync();

        factory.Graph.AddRoleAssignment(Core.Seed.DemoOrganisation.BreakGlass.Id.ToString(), Core.Seed.DemoOrganisation.GlobalAdministrator.ExternalId);

        var allowed = await factory.Browser(admin).GetAsync("/directory");
        var denied = await factory.Browser(plain).GetAsync("/directory");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Contains("Break Glass", await allowed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.OK, denied.StatusCode);
    }

    [Fact]
    public async Task SigningOut_NeedsTheAntiforgeryToken()
    {
        var user = await factory.UserAsync();

        var response = await factory.Browser(user).PostAsync("/entra/signout", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public void WithoutTheAppRegistration_EntraModeRefusesToStart_SayingWhatIsMissing()
    {
        using var incomplete = new EntraFactory().WithWebHostBuilder(b => b.UseSetting("AzureAd:ClientId", ""));

        var error = Assert.Throws<Core.StartupException>(() => incomplete.CreateClient());

        Assert.Contains("set AzureAd:ClientId", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// The web host in Entra mode with a made-up app registration; Entra's discovery document is given rather than
/// fetched, and a test scheme stands in for the session cookie of a user Entra signed in (oid and app roles).
/// </summary>
public sealed class EntraFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    private GraphStub.GraphStub? graph;

    /// <summary>Microsoft Graph for this host: the stateful stub (who holds which role).</summary>
    public GraphStub.GraphStub Graph => graph ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync() => graph = await GraphStub.GraphStub.StartAsync();

    async ValueTask IAsyncDisposable.DisposeAsync()
    {
        await base.DisposeAsync();
        if (graph is not null)
        {
            await graph.DisposeAsync();
        }
    }

    public const string TenantId = "11111111-2222-4333-8444-555555555555";
    public const string ClientId = "66666666-7777-4888-9999-000000000000";
    private readonly string file = Path.Combine(Path.GetTempPath(), $"pim-entra-{Guid.NewGuid():N}.db");

    public HttpClient Browser(Guid? user = null)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (user is { } id)
        {
            client.DefaultRequestHeaders.Add(TestUserHandler.Header, id.ToString());
        }

        return client;
    }

    /// <summary>A principal signed in through Entra, with these app roles.</summary>
    public async Task<Guid> UserAsync(params string[] roles)
    {
        var id = Guid.NewGuid();
        await using var db = await Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        db.Principals.Add(new Principal(id, PrincipalKind.User, $"Entra user {id:N}", $"{id:N}@contoso.test"));
        if (roles.Length > 0)
        {
            TestUserHandler.Roles[id] = roles;
        }

        await db.SaveChangesAsync();
        return id;
    }

    public const string BrowserNonce = "the-starting-browsers-secret";

    public async Task<Guid> StepUpAsync(Guid user)
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var challenge = new StepUpChallenge(Guid.NewGuid(), user, "{}", DateTimeOffset.UtcNow, StepUpChallenge.HashNonce(BrowserNonce));
        db.StepUpChallenges.Add(challenge);
        await db.SaveChangesAsync();
        return challenge.Id;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Pim", $"Data Source={file}");
        builder.UseSetting("Pim:Mode", "Entra");
        builder.UseSetting("Pim:Demo:Seed", "true");
        builder.UseSetting("Pim:Jobs:Enabled", "false");
        builder.UseSetting("AzureAd:Instance", "https://login.microsoftonline.com/");
        builder.UseSetting("AzureAd:TenantId", TenantId);
        builder.UseSetting("AzureAd:ClientId", ClientId);
        builder.UseSetting("AzureAd:ClientSecret", "not-a-real-secret");
        builder.UseSetting("AzureAd:CallbackPath", "/signin-oidc");
        if (graph is not null)
        {
            builder.UseSetting("Pim:Graph:BaseUrl", graph.BaseUrl.AbsoluteUri);
            builder.UseSetting("Pim:Graph:ArmUrl", graph.ArmUrl.AbsoluteUri);
        }

        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseEnvironment("Production");
        builder.ConfigureTestServices(services =>
        {
            services.PostConfigure<OpenIdConnectOptions>(OpenIdConnectDefaults.AuthenticationScheme, o =>
            {
                var configuration = new OpenIdConnectConfiguration
                {
                    Issuer = $"https://login.microsoftonline.com/{TenantId}/v2.0",
                    AuthorizationEndpoint = $"https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/authorize",
                    TokenEndpoint = $"https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/token",
                    EndSessionEndpoint = $"https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/logout",
                };
                o.Configuration = configuration;
                o.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(configuration);
            });
            services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, TestUserHandler>(TestUserHandler.SchemeName, null);
            services.PostConfigure<AuthenticationOptions>(o => o.DefaultAuthenticateScheme = TestUserHandler.SchemeName);
        });
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(file + suffix);
        }
    }
}

/// <summary>The signed-in Entra user a test names in a header: their object id, and app roles as Entra's "roles" claims.</summary>
public sealed class TestUserHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "EntraTestUser";
    public const string Header = "X-Test-Entra-User";

    public static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, string[]> Roles = new();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var value) || !Guid.TryParse(value, out var id))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var claims = new List<Claim> { new("oid", id.ToString()), new("name", $"Entra user {id:N}"), new("pim:sid", "entra-test-session") };
        claims.AddRange(Roles.GetValueOrDefault(id, []).Select(r => new Claim("roles", r)));
        var identity = new ClaimsIdentity(claims, SchemeName, "name", "roles");
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
