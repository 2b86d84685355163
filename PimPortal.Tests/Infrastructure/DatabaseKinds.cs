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

    public async ValueTask DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
