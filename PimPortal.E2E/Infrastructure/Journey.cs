using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.E2E.Pages;

namespace PimPortal.E2E.Infrastructure;

/// <summary>
/// A journey of several people, each signed in in a browser context of their own, against one real portal (fresh
/// database, demo seeded, workers running).
/// </summary>
public abstract class Journey(Browser browser) : IAsyncLifetime
{
    private readonly List<IBrowserContext> contexts = [];

    protected PortalServer Server { get; } = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var context in contexts)
        {
            await context.DisposeAsync();
        }

        await Server.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Signs <paramref name="who"/> in through the sign-in form in a new browser context; returns their My roles page, interactive.</summary>
    protected async Task<IPage> SignInAsync(DemoAccount who) => await SignInAsync(await NewBrowserContextAsync(), who);

    /// <summary>A new browser context on the portal, disposed with the journey.</summary>
    protected async Task<IBrowserContext> NewBrowserContextAsync()
    {
        var context = await browser.Instance.NewContextAsync(new() { BaseURL = Server.BaseUrl });
        contexts.Add(context);
        return context;
    }

    /// <summary>Signs <paramref name="who"/> in through the sign-in form in <paramref name="context"/>; returns their My roles page, interactive.</summary>
    public static async Task<IPage> SignInAsync(IBrowserContext context, DemoAccount who)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await new SignInPage(page).SignInAsync(who.Email, DemoOrganisation.Password);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "My roles" })).ToBeVisibleAsync();
        await new MyRolesPage(page).WaitUntilInteractiveAsync();
        return page;
    }

    /// <summary>The demo account's authenticator code now (or <paramref name="offsetSteps"/> 30-second steps away).</summary>
    public static string CodeFor(DemoAccount who, int offsetSteps = 0) =>
        new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(who.TotpSecret)).ComputeTotp(DateTime.UtcNow.AddSeconds(30 * offsetSteps));

    /// <summary>Reads the portal's database directly, for asserting what the journey left there.</summary>
    protected async Task<T> DbAsync<T>(Func<PimDbContext, Task<T>> read)
    {
        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await read(db);
    }
}
