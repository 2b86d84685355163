using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

/// <summary>The hosted workers, running for real on a fake clock.</summary>
public sealed class WorkerTests : IAsyncLifetime
{
    private TestApp app = null!;
    private List<IHostedService> workers = [];

    public async ValueTask InitializeAsync()
    {
        app = await TestApp.StartAsync(DatabaseKind.Sqlite, services => services.AddPimPortalJobs());
        workers = [.. app.Services.GetServices<IHostedService>()];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in workers)
        {
            await worker.StopAsync(CancellationToken.None);
        }

        await app.DisposeAsync();
    }

    [Fact]
    public async Task AGrant_IsConfirmedAndEnded_WithoutAnyonePollingOrReloading()
    {
        await StartWorkersAsync();
        var id = (await app.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;

        await Eventually.HoldsAsync(async () => (await app.ActivationAsync(id)).Status == ActivationStatus.Active, "the outbox worker to confirm the grant");

        app.Time.Advance(TimeSpan.FromHours(1));

        await Eventually.HoldsAsync(async () => (await app.ActivationAsync(id)).RemovedFromDirectoryAt is not null, "the expiry worker to end the grant and the outbox to remove it");
        var activation = await app.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Expired, TestApp.Start.AddHours(1)), (activation.Status, activation.EndedAt!.Value));
    }

    [Fact]
    public async Task OnStart_EverythingOverdue_IsEnded()
    {
        var id = (await app.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        app.Time.Advance(TimeSpan.FromHours(3));

        await StartWorkersAsync();

        await Eventually.HoldsAsync(async () => (await app.ActivationAsync(id)).Status == ActivationStatus.Expired, "the overdue activation to be ended on start");
        await Eventually.HoldsAsync(async () => !await app.Db(db => db.DirectoryAssignments.AnyAsync(a => a.ActivationId == id)), "the assignment to be removed");
    }

    [Fact]
    public async Task AnExtension_WakesTheExpiryWorkerToTheNewEnd()
    {
        await StartWorkersAsync();
        var id = (await app.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator)).ActivationId!.Value;
        await Eventually.HoldsAsync(async () => (await app.ActivationAsync(id)).Status == ActivationStatus.Active, "the grant to be confirmed");
        app.Time.Advance(TimeSpan.FromMinutes(30));
        await app.SendAs(DemoOrganisation.Alice, new Core.Features.Activation.ExtendActivation(id, TimeSpan.FromHours(2), "Longer", null, null, null));

        app.Time.Advance(TimeSpan.FromMinutes(31));
        await app.Expiry.ExpireDueAsync(CancellationToken.None);
        Assert.Equal(ActivationStatus.Active, (await app.ActivationAsync(id)).Status);

        app.Time.Advance(TimeSpan.FromMinutes(90));
        await Eventually.HoldsAsync(async () => (await app.ActivationAsync(id)).Status == ActivationStatus.Expired, "the extended activation to end at its new end");
    }

    private async Task StartWorkersAsync()
    {
        foreach (var worker in workers)
        {
            await worker.StartAsync(CancellationToken.None);
        }
    }
}

public sealed class OverdueTests
{
    [Fact]
    public void SomethingDueLater_IsWaitedFor_UpToTheLongestWait()
    {
        var streak = 3;

        Assert.Equal(TimeSpan.FromSeconds(2), Core.Jobs.Overdue.Wait(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), ref streak));
        Assert.Equal(TimeSpan.FromSeconds(5), Core.Jobs.Overdue.Wait(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(5), ref streak));
        Assert.Equal(0, streak);
    }

    [Fact]
    public void SomethingStillDue_IsLookedAtAgainAtOnce_ThenAfterAPause()
    {
        var streak = 0;

        Assert.Equal(TimeSpan.Zero, Core.Jobs.Overdue.Wait(TimeSpan.FromMilliseconds(-3), TimeSpan.FromSeconds(5), ref streak));
        Assert.Equal(Core.Jobs.Overdue.Pause, Core.Jobs.Overdue.Wait(TimeSpan.Zero, TimeSpan.FromSeconds(5), ref streak));
        Assert.Equal(Core.Jobs.Overdue.Pause, Core.Jobs.Overdue.Wait(TimeSpan.FromSeconds(-1), TimeSpan.FromSeconds(5), ref streak));
    }
}
