namespace PimPortal.Tests.Infrastructure;

/// <summary>
/// Base of a handler suite that runs on both engines: derive one class per engine (…OnSqlite, …OnPostgreSql) and
/// every test runs on each.
/// </summary>
public abstract class HandlerTests(DatabaseKind kind) : IAsyncLifetime
{
    private TestApp? app;

    protected TestApp App => app ?? throw new InvalidOperationException("Not started.");

    public virtual async ValueTask InitializeAsync() => app = await TestApp.StartAsync(kind);

    /// <summary>Starts the app with these settings (for suites that need other thresholds).</summary>
    protected async Task StartAsync(IDictionary<string, string?> settings)
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        app = await TestApp.StartAsync(kind, settings: settings);
    }

    /// <summary>The attempt limits off (Pim:RateLimits), for tests of what lies behind them (the lockouts).</summary>
    protected static readonly IReadOnlyDictionary<string, string?> NoRateLimits = new Dictionary<string, string?>
    {
        ["Pim:RateLimits:StepUp:PerAddress:PermitLimit"] = "0",
        ["Pim:RateLimits:StepUp:PerAccount:PermitLimit"] = "0",
    };

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
