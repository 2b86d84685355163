using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using MudBlazor;
using MudBlazor.Services;
using OtpNet;
using PimPortal.Core;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Components;

/// <summary>
/// bUnit with the real Core behind the components (real pipeline, SQLite, the demo organisation) and a fake clock:
/// only the browser is simulated. Modelled on MudBlazor's TestContextExtensions, without retry-until-green.
/// </summary>
public abstract class PortalComponentTest : IAsyncLifetime
{
    private TestDatabase? database;

    protected BunitContext Context { get; } = new();

    protected FakeTimeProvider Time { get; } = new(TestApp.Start);

    public async ValueTask InitializeAsync()
    {
        database = await TestDatabase.CreateAsync(DatabaseKind.Sqlite);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pim"] = database.ConnectionString,
        }).Build();
        var services = Context.Services;
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(Time);
        services.AddPimPortalCore(configuration);
        services.AddPortalComponents();
        services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public async ValueTask DisposeAsync()
    {
        await Context.DisposeAsync();
        if (database is not null)
        {
            await database.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected void SignIn(DemoAccount who)
    {
        var auth = Context.AddAuthorization();
        auth.SetAuthorized(who.Email);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, who.Id.ToString()), new Claim(ClaimsPrincipalExtensions.SessionClaim, "bunit-session"));
        if (who.Permission is { } permission)
        {
            auth.SetRoles(permission);
        }
    }

    /// <summary>Renders <typeparamref name="TPage"/> with the providers the layout would give it (dialogs, popovers, snackbars).</summary>
    protected IRenderedComponent<IComponent> RenderPage<TPage>() where TPage : IComponent
    {
        // Set last: it builds the renderer, after which no service can be added.
        Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        return Context.Render(builder =>
        {
            builder.OpenComponent<MudPopoverProvider>(0);
            builder.CloseComponent();
            builder.OpenComponent<MudDialogProvider>(1);
            builder.CloseComponent();
            builder.OpenComponent<MudSnackbarProvider>(2);
            builder.CloseComponent();
            builder.OpenComponent<TPage>(3);
            builder.CloseComponent();
        });
    }

    protected string CodeFor(DemoAccount who) =>
        new Totp(Base32Encoding.ToBytes(who.TotpSecret)).ComputeTotp(Time.GetUtcNow().UtcDateTime);

    protected Task<int> RunOutboxAsync() => Context.Services.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(CancellationToken.None);

    protected static Task ClickAsync(AngleSharp.Dom.IElement element) => element.ClickAsync(new MouseEventArgs());
}
