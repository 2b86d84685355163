using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using PimPortal.Api;
using PimPortal.Auth;
using PimPortal.Components;
using PimPortal.Core;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;
using PimPortal.Core.Seed;
using PimPortal.Hardening;
using PimPortal.Health;
using PimPortal.Telemetry;

namespace PimPortal;

/// <summary>How the web host is put together; shared by Program and the tests' factories.</summary>
internal static partial class HostSetup
{
    /// <summary>The policy of the audit pages: auditors and PIM administrators.</summary>
    public const string AuditReaders = "AuditReaders";

    public static WebApplicationBuilder AddPimPortal(this WebApplicationBuilder builder)
    {
        // Static web assets (_framework, MudBlazor's _content) are served from the build output in every
        // environment, so `dotnet run` works without ASPNETCORE_ENVIRONMENT=Development.
        builder.WebHost.UseStaticWebAssets();

        var services = builder.Services;
        var options = CheckedOptions(builder.Configuration);
        services.AddPimPortalCore(builder.Configuration);
        services.AddPimKeyRing(options.DataProtection, SqliteFile(options, builder.Configuration));
        if (options.Jobs.Enabled)
        {
            services.AddPimPortalJobs(options.Mode);
        }

        if (options.RunsChangeFeed)
        {
            services.AddPimPortalChangeFeed();
        }

        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddPortalComponents();
        services.AddCascadingAuthenticationState();
        if (options.Mode == PimMode.Entra)
        {
            services.AddEntraSignIn(builder.Configuration, options);
        }
        else
        {
            AddLocalAccounts(services);
        }

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(PortalPermissions.PimAdministrator, p => p.RequireRole(PortalPermissions.PimAdministrator))
            .AddPolicy(PortalPermissions.GovernanceLead, p => p.RequireRole(PortalPermissions.GovernanceLead))
            .AddPolicy(AuditReaders, p => p.RequireRole(PortalPermissions.Auditor, PortalPermissions.PimAdministrator));

        // Client addresses in the audit trail: trust X-Forwarded-For only from the proxies named (loopback always) —
        // single addresses, or networks for proxies whose address changes (an ingress's pods, a platform's front ends).
        var proxies = TrustedProxies(builder.Configuration);
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            foreach (var proxy in proxies.Addresses)
            {
                o.KnownProxies.Add(proxy);
            }

            foreach (var network in proxies.Networks)
            {
                o.KnownIPNetworks.Add(network);
            }
        });
        // Over HTTPS the session cookie is __Host- prefixed and Secure; the antiforgery cookie Secure; no framing at all
        // (the X-Frame-Options and frame-ancestors of the antiforgery and Blazor defaults give way to the portal's own).
        services.PostConfigureAll<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>(o => o.CookieManager = new HostPrefixedCookies());
        services.AddAntiforgery(o =>
        {
            o.SuppressXFrameOptionsHeader = true;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddPortalHealthChecks(options);
        builder.AddPortalTelemetry(options.Telemetry);
        return builder;
    }

    /// <summary>The SQLite database's file (absolute), or null for another database or one in memory.</summary>
    private static string? SqliteFile(PimOptions options, IConfiguration configuration) =>
        options.Database.Provider == DatabaseProvider.Sqlite
        && new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(configuration.GetConnectionString("Pim")) is { DataSource: { Length: > 0 } file, Mode: not Microsoft.Data.Sqlite.SqliteOpenMode.Memory }
        && file != ":memory:"
            ? Path.GetFullPath(file)
            : null;

    /// <summary><c>ForwardedHeaders:KnownProxies</c> (addresses) and <c>…:KnownNetworks</c> (CIDR), a bad one stopping the start.</summary>
    private static (List<System.Net.IPAddress> Addresses, List<System.Net.IPNetwork> Networks) TrustedProxies(IConfiguration configuration)
    {
        var problems = new List<string>();
        List<T> Parse<T>(string key, Func<string, object?> parse, string allowed)
        {
            var parsed = new List<T>();
            var values = configuration.GetSection(key).Get<string[]>() ?? [];
            for (var i = 0; i < values.Length; i++)
            {
                if (parse(values[i]) is T value)
                {
                    parsed.Add(value);
                }
                else
                {
                    problems.Add($"{key}:{i} is '{values[i]}': allowed is {allowed}.");
                }
            }

            return parsed;
        }

        var addresses = Parse<System.Net.IPAddress>("ForwardedHeaders:KnownProxies", v => System.Net.IPAddress.TryParse(v, out var a) ? a : null,
            "an IP address, e.g. 10.0.0.5 (a network goes in ForwardedHeaders:KnownNetworks)");
        var networks = Parse<System.Net.IPNetwork>("ForwardedHeaders:KnownNetworks", v => System.Net.IPNetwork.TryParse(v, out var n) ? n : null,
            "a network in CIDR notation, e.g. 10.244.0.0/16");
        return problems.Count == 0 ? (addresses, networks) : throw new StartupException(problems);
    }

    /// <summary>
    /// The <c>Pim</c> settings, checked before anything touches the database: a value that does not bind (not a number,
    /// not a time span) or breaks a rule stops the start with one line per problem (<see cref="StartupException"/>).
    /// </summary>
    private static PimOptions CheckedOptions(IConfiguration configuration)
    {
        PimOptions options;
        Core.Directory.Graph.GraphDirectoryOptions graph;
        try
        {
            options = configuration.GetSection(PimOptions.Section).Get<PimOptions>() ?? new PimOptions();
            graph = configuration.GetSection(Core.Directory.Graph.GraphDirectoryOptions.Section).Get<Core.Directory.Graph.GraphDirectoryOptions>() ?? new();
        }
        catch (InvalidOperationException e)
        {
            // "Failed to convert configuration value 'abc' at 'Pim:Jobs:OutboxLease' to type 'System.TimeSpan'."
            throw new StartupException(e.Message, e);
        }

        var problems = ConfigurationCheck.Problems(options).ToList();
        if (options.Mode == PimMode.Entra)
        {
            if (EntraAuthentication.MissingRegistration(configuration) is { } registration)
            {
                problems.Add(registration);
            }

            problems.AddRange(ConfigurationCheck.Problems(new Core.Directory.Graph.GraphDirectoryOptionsValidator(), graph));
        }

        return problems.Count == 0 ? options : throw new StartupException(problems);
    }

    /// <summary>The embedded default: local accounts (ASP.NET Core Identity) with the portal's own cookie.</summary>
    private static void AddLocalAccounts(IServiceCollection services)
    {
        services.AddScoped<AuthenticationStateProvider, PortalAuthenticationStateProvider>();
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = IdentityConstants.ApplicationScheme;
                o.DefaultSignInScheme = IdentityConstants.ExternalScheme;
            })
            .AddIdentityCookies();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/signin";
            o.LogoutPath = "/signout";
            o.AccessDeniedPath = "/access-denied";
            o.Cookie.Name = "PimPortal.Session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });

        // A disabled account or a changed password ends open sessions within a minute.
        services.Configure<SecurityStampValidatorOptions>(o =>
        {
            o.ValidationInterval = TimeSpan.FromMinutes(1);

            // The refreshed cookie keeps its session: same sign-in, same session id.
            o.OnRefreshingPrincipal = context =>
            {
                if (context.CurrentPrincipal?.FindFirst(ClaimsPrincipalExtensions.SessionClaim) is { } session
                    && context.NewPrincipal?.Identity is System.Security.Claims.ClaimsIdentity identity)
                {
                    identity.AddClaim(new System.Security.Claims.Claim(session.Type, session.Value));
                }

                return Task.CompletedTask;
            };
        });
        services.AddIdentityCore<PortalUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.Lockout.MaxFailedAccessAttempts = 10; // above the 5 wrong passwords a minute one address may try (Pim:RateLimits:SignIn)
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                o.Password.RequiredLength = 12;
            })
            .AddRoles<IdentityRole<Guid>>()
            .AddEntityFrameworkStores<PimDbContext>()
            .AddSignInManager<PortalSignInManager>()
            .AddDefaultTokenProviders();
    }

    /// <summary>What the portal's components need besides Core: MudBlazor, the circuit's client, clock and user.</summary>
    public static IServiceCollection AddPortalComponents(this IServiceCollection services)
    {
        services.AddMudServices(o =>
        {
            o.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight;
            o.SnackbarConfiguration.VisibleStateDuration = 4000;
        });
        services.AddScoped<ClientContext>();
        services.AddScoped<Components.Shared.LocalTime>();
        services.AddScoped<Components.Shared.Ticker>();
        services.AddScoped<ICurrentUser, BlazorCurrentUser>();
        return services;
    }

    public static async Task UsePimPortalAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PimOptions>>().Value;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<DatabaseInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);
        }

        // The key ring is read (its first key made) now: a key this instance cannot decrypt is told at start, and the
        // readiness probe keeps saying it, rather than a user's first page failing.
        if (KeyRing.Check(app.Services) is { } keyRingProblem)
        {
            LogKeyRing(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HostSetup)), keyRingProblem);
        }

        app.UseForwardedHeaders();
        app.UseSecurityHeaders(options.Mode == PimMode.Entra ? EntraAuthentication.FormTargets(app.Configuration) : []);
        app.UsePortalTelemetry(options.Telemetry);
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapStaticAssets().AllowAnonymous();
        app.MapPortalHealthChecks();
        if (options.Mode == PimMode.Entra)
        {
            app.MapEntraEndpoints();
        }

        app.MapDownloads();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Data Protection key ring: {Problem}")]
    private static partial void LogKeyRing(ILogger logger, string problem);
}
