using System.Security.Claims;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using OtpNet;
using PimPortal.Core;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>
/// PimPortal.Core as the host wires it — real pipeline, real database (SQLite or PostgreSQL), the demo organisation
/// seeded — with a fake clock and a settable signed-in user. Commands go through <see cref="ISender"/> exactly as
/// from a page.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    /// <summary>Where the fake clock starts: a Friday morning, well inside every demo eligibility.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;

    private TestApp(TestDatabase database, ServiceProvider services, FakeTimeProvider time)
    {
        Database = database;
        _services = services;
        Time = time;
    }

    public TestDatabase Database { get; }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _services;

    public OutboxProcessor Outbox => _services.GetRequiredService<OutboxProcessor>();

    public ExpiryProcessor Expiry => _services.GetRequiredService<ExpiryProcessor>();

    /// <summary>Starts on a fresh copy of the migrated, seeded template database of <paramref name="kind"/>.</summary>
    public static async Task<TestApp> StartAsync(DatabaseKind kind, Action<IServiceCollection>? configure = null, IDictionary<string, string?>? settings = null) =>
        Create(await TestDatabase.CreateAsync(kind), configure, settings);

    /// <summary>A second portal instance on this one's database (its own services, events and clock).</summary>
    public TestApp SecondInstance(IDictionary<string, string?>? settings = null) => Create(Database.Shared(), null, settings);

    private static TestApp Create(TestDatabase database, Action<IServiceCollection>? configure, IDictionary<string, string?>? settings)
    {
        var config = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Pim"] = database.ConnectionString,
            ["Pim:Database:Provider"] = database.Provider.ToString(),

            // A coalescing pause on the fake clock would wait for the test to move time; the workers' tests do not need it.
            ["Pim:Jobs:OutboxCoalesce"] = "00:00:00",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();
        var time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(time);
        services.AddPimPortalCore(configuration);
        TestDatabase.AddTestKeyRing(services);
        services.AddScoped<TestCurrentUser>();
        services.AddScoped<ICurrentUser>(sp => sp.GetRequiredService<TestCurrentUser>());
        configure?.Invoke(services);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        return new TestApp(database, provider, time);
    }

    /// <summary>Sends a command as <paramref name="who"/> through the whole pipeline, in a scope of its own (as a circuit).</summary>
    public async Task<T> SendAs<T>(DemoAccount who, ICommand<T> command, ClientInfo? client = null, string? session = null)
    {
        await using var scope = _services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TestCurrentUser>().SignIn(who, client, session);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>Sends any message (its type known only at run time) as <paramref name="who"/> through the whole pipeline.</summary>
    public async Task<object?> SendObjectAs(DemoAccount who, object message)
    {
        await using var scope = _services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TestCurrentUser>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(message);
    }

    public async Task<T> QueryAs<T>(DemoAccount who, IQuery<T> query)
    {
        await using var scope = _services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TestCurrentUser>().SignIn(who);
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(query);
    }

    /// <summary>Sends as a user who is not signed in (or as any claims principal).</summary>
    public async Task<T> SendAsPrincipal<T>(ClaimsPrincipal user, ICommand<T> command)
    {
        await using var scope = _services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TestCurrentUser>().User = user;
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(command);
    }

    /// <summary>Reads (or changes) the database directly, for arranging and asserting.</summary>
    public async Task<T> Db<T>(Func<PimDbContext, Task<T>> work)
    {
        await using var db = await _services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await work(db);
    }

    public Task Db(Func<PimDbContext, Task> work) => Db(async db =>
    {
        await work(db);
        return true;
    });

    /// <summary>The code <paramref name="who"/>'s authenticator shows at the fake clock's now (or <paramref name="offsetSteps"/> steps away).</summary>
    public string CodeFor(DemoAccount who, int offsetSteps = 0) =>
        new Totp(Base32Encoding.ToBytes(who.TotpSecret)).ComputeTotp(Time.GetUtcNow().UtcDateTime.AddSeconds(30 * offsetSteps));

    /// <summary>A six-digit code that is valid for none of the steps the portal would accept now.</summary>
    public string WrongCodeFor(DemoAccount who)
    {
        var valid = new[] { CodeFor(who, -1), CodeFor(who), CodeFor(who, 1) };
        return Enumerable.Range(0, 10).Select(i => $"{i}{i}{i}{i}{i}{i}").First(c => !valid.Contains(c));
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>The signed-in user of one scope, as the host's ICurrentUser would give it.</summary>
public sealed class TestCurrentUser : ICurrentUser
{
    public ClaimsPrincipal User { get; set; } = new(new ClaimsIdentity());

    public ClientInfo Client { get; private set; } = new("203.0.113.7", "TestBrowser/1.0");

    public Task<ClaimsPrincipal> GetUserAsync() => Task.FromResult(User);

    /// <summary>Signs in as <paramref name="who"/>, in one sign-in session per account unless <paramref name="session"/> names another.</summary>
    public void SignIn(DemoAccount who, ClientInfo? client = null, string? session = null)
    {
        User = PrincipalFor(who, session);
        Client = client ?? Client;
    }

    public static ClaimsPrincipal PrincipalFor(DemoAccount who, string? session = null)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, who.Id.ToString()),
            new(ClaimTypes.Name, who.Email),
            new(ClaimsPrincipalExtensions.SessionClaim, session ?? $"session-of-{who.Email}"),
        };
        if (who.Permission is { } permission)
        {
            claims.Add(new Claim(ClaimTypes.Role, permission));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, "Test"));
    }
}
