using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

/// <summary>
/// Wrong passwords are limited per client address and per account (Pim:RateLimits:SignIn): a burst from one address
/// is answered 429 with Retry-After before the account is locked, so a guesser cannot lock an approver out, and the
/// approver can still sign in from their own machine. Each test has its own host: the limits are per instance.
/// </summary>
public sealed class SignInRateLimitTests
{
    [Fact]
    public async Task ABurstOfWrongPasswordsFromOneAddress_IsSlowedWith429_BeforeTheAccountIsLocked()
    {
        await using var portal = new PortalFactory();
        var guesser = From(portal, "203.0.113.66");

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 12; i++)
        {
            answers.Add(await PortalFactory.SignInAsync(guesser, DemoOrganisation.Bob.Email, "guess-" + i));
        }

        Assert.All(answers.Take(5), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.All(answers.Skip(5), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.StatusCode));
        var retryAfter = answers[5].Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Contains("Too many sign-in attempts: try again in", await answers[5].Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The right password from there waits too (it is not even checked); from Bob's own machine he signs in.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await PortalFactory.SignInAsync(guesser, DemoOrganisation.Bob.Email, DemoOrganisation.Password)).StatusCode);
        var bob = await PortalFactory.SignInAsync(From(portal, "198.51.100.20"), DemoOrganisation.Bob.Email, DemoOrganisation.Password);
        Assert.Equal(HttpStatusCode.Redirect, bob.StatusCode);

        await using var scope = portal.Services.CreateAsyncScope();
        var account = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByEmailAsync(DemoOrganisation.Bob.Email);
        Assert.Null(account!.LockoutEnd);
        var limited = Assert.Single(await AuditAsync(portal, AuditActions.SignInRateLimited));
        Assert.Equal(("203.0.113.66", DemoOrganisation.Bob.Email, AuditOutcome.Refused), (limited.ClientAddress, limited.TargetId, limited.Outcome));
        Assert.Contains("per address", limited.Details, StringComparison.Ordinal);
        Assert.Equal(5, (await AuditAsync(portal, AuditActions.SignInFailed)).Count);
    }

    [Fact]
    public async Task WrongPasswordsSpreadOverManyAddresses_AreSlowedByTheAccountLimit()
    {
        await using var portal = new PortalFactory();
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await PortalFactory.SignInAsync(From(portal, $"198.51.100.{i + 1}"), DemoOrganisation.Erin.Email, "guess-" + i)).StatusCode);
        }

        var ninth = await PortalFactory.SignInAsync(From(portal, "192.0.2.9"), DemoOrganisation.Erin.Email, "guess-9");

        Assert.Equal(HttpStatusCode.TooManyRequests, ninth.StatusCode);
        Assert.Contains("per account", Assert.Single(await AuditAsync(portal, AuditActions.SignInRateLimited)).Details, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await PortalFactory.SignInAsync(From(portal, "192.0.2.10"), DemoOrganisation.Dave.Email, DemoOrganisation.Password)).StatusCode);
    }

    [Fact]
    public async Task TenWrongPasswords_LockTheAccount_WhenTheRateLimitsAreOff()
    {
        await using var portal = PortalFactory.On(PortalFactory.NewFile(),
            ("Pim:RateLimits:SignIn:PerAddress:PermitLimit", "0"), ("Pim:RateLimits:SignIn:PerAccount:PermitLimit", "0"));
        var browser = portal.Browser();
        for (var i = 0; i < 10; i++)
        {
            await PortalFactory.SignInAsync(browser, DemoOrganisation.Carol.Email, "wrong-" + i);
        }

        var response = await PortalFactory.SignInAsync(browser, DemoOrganisation.Carol.Email, DemoOrganisation.Password);

        Assert.Contains("this account is locked", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A browser on another machine: its address arrives through the (loopback) proxy's X-Forwarded-For.</summary>
    private static HttpClient From(PortalFactory portal, string address)
    {
        var browser = portal.Browser();
        browser.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return browser;
    }

    private static async Task<List<AuditEvent>> AuditAsync(PortalFactory portal, string action)
    {
        await using var db = await portal.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await db.AuditEvents.Where(e => e.Action == action).OrderBy(e => e.Id).ToListAsync();
    }
}
