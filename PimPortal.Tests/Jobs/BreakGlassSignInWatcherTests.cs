using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Alerts;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

public sealed class BreakGlassSignInWatcherOnSqlite() : BreakGlassSignInWatcherTests(DatabaseKind.Sqlite);

public sealed class BreakGlassSignInWatcherOnPostgreSql() : BreakGlassSignInWatcherTests(DatabaseKind.PostgreSql);

/// <summary>
/// Break-glass sign-ins anywhere in the tenant, read from Entra's sign-in log (the Graph stub, through the real SDK):
/// each one audited and alarmed once.
/// </summary>
public abstract class BreakGlassSignInWatcherTests(DatabaseKind kind) : IAsyncLifetime
{
    private static readonly DemoAccount BreakGlass = DemoOrganisation.BreakGlass;

    private TestApp? app;
    private GraphStub.GraphStub? stub;

    private TestApp App => app!;

    private GraphStub.GraphStub Stub => stub!;

    private BreakGlassSignInWatcher Watcher => App.Services.GetRequiredService<BreakGlassSignInWatcher>();

    public async ValueTask InitializeAsync()
    {
        stub = await GraphStub.GraphStub.StartAsync();
        app = await TestApp.StartAsync(kind, services => services.UseGraphStub(stub));
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Stub.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task ASignInInTheTenant_IsAuditedAndAlarmedOnce_AndTheNextOneCountsOnTheSameAlert()
    {
        Stub.AddSignIn(BreakGlass.Id.ToString(), TestApp.Start.AddMinutes(-5), "Azure Portal", "198.51.100.20");

        Assert.Equal(1, await Watcher.WatchAsync(CancellationToken.None));
        Assert.Equal(0, await Watcher.WatchAsync(CancellationToken.None));
        App.Time.Advance(TimeSpan.FromMinutes(15));
        Stub.AddSignIn(BreakGlass.Id.ToString(), TestApp.Start.AddMinutes(10), "Microsoft Entra admin center", "198.51.100.21", errorCode: 50126);
        Assert.Equal(1, await Watcher.WatchAsync(CancellationToken.None));

        var alert = Assert.Single(await App.QueryAs(DemoOrganisation.Erin, new GetAlerts()), a => a.Kind == AlertKind.BreakGlassUsed);
        Assert.Equal(2, alert.Occurrences);
        Assert.Contains("tried to sign in to Microsoft Entra admin center", alert.Detail, StringComparison.Ordinal);
        var audited = await App.AuditAsync(AuditActions.DirectorySignIn);
        Assert.Equal([("198.51.100.20", AuditOutcome.Success), ("198.51.100.21", AuditOutcome.Failed)], audited.Select(e => (e.ClientAddress!, e.Outcome)));
        Assert.Single(await App.NotificationsAsync(DemoOrganisation.Erin), n => n.Kind == NotificationKind.Alert);
    }

    [Fact]
    public async Task AnAccountWatchedForTheFirstTime_IsReadFromOneIntervalBack()
    {
        Stub.AddSignIn(BreakGlass.Id.ToString(), TestApp.Start.AddDays(-3), "Azure Portal", "198.51.100.20");

        Assert.Equal(0, await Watcher.WatchAsync(CancellationToken.None));
        Assert.Empty(await App.AuditAsync(AuditActions.DirectorySignIn));
    }

    [Fact]
    public async Task AnUnreadableLog_RecordsNothing_AndTheSignInIsFoundOnceItCanBeRead()
    {
        Stub.AddSignIn(BreakGlass.Id.ToString(), TestApp.Start.AddMinutes(-5), "Azure Portal", "198.51.100.20");
        Stub.FailNext("GET", "auditLogs/signIns", 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant", "Neither tenant is B2C or tenant doesn't have premium license");

        Assert.Equal(0, await Watcher.WatchAsync(CancellationToken.None));
        Assert.Equal(1, await Watcher.WatchAsync(CancellationToken.None));
        Assert.Single(await App.AuditAsync(AuditActions.DirectorySignIn));
    }

    [Fact]
    public async Task TwoInstancesWatchingAtOnce_RecordEachSignInOnce()
    {
        for (var i = 0; i < 3; i++)
        {
            Stub.AddSignIn(BreakGlass.Id.ToString(), TestApp.Start.AddMinutes(-10 + i), "Azure Portal", $"198.51.100.{30 + i}");
        }

        var other = ActivatorUtilities.CreateInstance<BreakGlassSignInWatcher>(App.Services);
        var counts = await Task.WhenAll(Watcher.WatchAsync(CancellationToken.None), other.WatchAsync(CancellationToken.None));

        Assert.Equal(3, counts.Sum());
        Assert.Equal(3, (await App.AuditAsync(AuditActions.DirectorySignIn)).Count);
        Assert.Equal(3, (await App.QueryAs(DemoOrganisation.Erin, new GetAlerts())).Single(a => a.Kind == AlertKind.BreakGlassUsed).Occurrences);
    }

    [Fact]
    public async Task OrdinaryAccounts_AreNotWatched()
    {
        Stub.AddSignIn(DemoOrganisation.Alice.Id.ToString(), TestApp.Start.AddMinutes(-5), "Azure Portal", "198.51.100.20");

        Assert.Equal(0, await Watcher.WatchAsync(CancellationToken.None));
        Assert.DoesNotContain(Stub.Requests, r => r.PathAndQuery.Contains("signIns", StringComparison.Ordinal) && r.PathAndQuery.Contains(DemoOrganisation.Alice.Id.ToString(), StringComparison.OrdinalIgnoreCase));
    }
}
