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
    protected async Task StartAsync(IDictionary<string, string?> settings) => app = await TestApp.StartAsync(kind, settings: settings);

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
