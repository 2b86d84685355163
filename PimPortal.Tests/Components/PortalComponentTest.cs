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
using PimPortal.Core.Lifecycle;
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
        TestDatabase.AddTestKeyRing(services);
        services.AddPortalComponents();
        services.AddMudServices(o => o.PopoverOptions.CheckForPopoverProvider = false);

        // Someone else acting meanwhile (another approver in their own browser): a scope of its own with its own user.
        services.AddScoped<TestCurrentUser>();
        services.AddScoped<ActingAs>();
        services.AddScoped<ICurrentUser>(sp => sp.GetRequiredService<ActingAs>().IsSet
            ? sp.GetRequiredService<TestCurrentUser>()
            : ActivatorUtilities.CreateInstance<PimPortal.Auth.BlazorCurrentUser>(sp));
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
        if (who.Permission is { } permission)
        {
            auth.SetRoles(permission);
        }

        // Claims last: setting roles builds the user again.
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, who.Id.ToString()), new Claim(ClaimsPrincipalExtensions.SessionClaim, "bunit-session"));
    }

    /// <summary>Renders <typeparamref name="TPage"/> with the providers the layout would give it (dialogs, popovers, snackbars).</summary>
    protected IRenderedComponent<IComponent> RenderPage<TPage>(IReadOnlyDictionary<string, object?>? parameters = null) where TPage : IComponent
    {
        EnsureServicesComplete();
        return Context.Render(builder =>
        {
            builder.OpenComponent<MudPopoverProvider>(0);
            builder.CloseComponent();
            builder.OpenComponent<MudDialogProvider>(1);
            builder.CloseComponent();
            builder.OpenComponent<MudSnackbarProvider>(2);
            builder.CloseComponent();
            builder.OpenComponent<TPage>(3);
            foreach (var (name, value) in parameters ?? new Dictionary<string, object?>())
            {
                builder.AddComponentParameter(4, name, value);
            }

            builder.CloseComponent();
        });
    }

    protected string CodeFor(DemoAccount who) =>
        new Totp(Base32Encoding.ToBytes(who.TotpSecret)).ComputeTotp(Time.GetUtcNow().UtcDateTime);

    /// <summary>
    /// Sends a command as <paramref name="who"/> from another session, through the whole pipeline, as their own page
    /// would. Completes the services (sign the page's user in before).
    /// </summary>
    protected async Task<T> SendAsAsync<T>(DemoAccount who, Mediator.ICommand<T> command)
    {
        EnsureServicesComplete();
        await using var scope = Context.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<ActingAs>().IsSet = true;
        scope.ServiceProvider.GetRequiredService<TestCurrentUser>().SignIn(who, session: $"other-session-of-{who.Email}");
        return await scope.ServiceProvider.GetRequiredService<Mediator.ISender>().Send(command);
    }

    private bool servicesComplete;

    /// <summary>Last of the set-up: the renderer info builds the renderer, after which no service can be added. Sign in before.</summary>
    protected void EnsureServicesComplete()
    {
        if (!servicesComplete)
        {
            Context.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
            servicesComplete = true;
        }
    }

    /// <summary>Reads (or arranges) the database directly. Completes the services (sign the page's user in before).</summary>
    protected async Task<T> DbAsync<T>(Func<Core.Persistence.PimDbContext, Task<T>> work)
    {
        EnsureServicesComplete();
        await using var db = await Context.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Core.Persistence.PimDbContext>>().CreateDbContextAsync();
        return await work(db);
    }

    /// <summary>Arranges the database directly.</summary>
    protected Task ArrangeAsync(Func<Core.Persistence.PimDbContext, Task> work) => DbAsync(async db =>
    {
        await work(db);
        return true;
    });

    protected Task<int> RunOutboxAsync() => Context.Services.GetRequiredService<OutboxProcessor>().ProcessBatchAsync(CancellationToken.None);

    protected static Task ClickAsync(AngleSharp.Dom.IElement element) => element.ClickAsync(new MouseEventArgs());
}

/// <summary>Marks a scope whose user is a test user rather than the rendered page's.</summary>
public sealed class ActingAs
{
    public bool IsSet { get; set; }
}
