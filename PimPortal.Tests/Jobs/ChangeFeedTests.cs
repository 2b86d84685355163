using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;
using PimPortal.Core.Signals;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Jobs;

public sealed class ChangeFeedOnSqlite() : ChangeFeedTests(DatabaseKind.Sqlite);

public sealed class ChangeFeedOnPostgreSql() : ChangeFeedTests(DatabaseKind.PostgreSql);

/// <summary>Two portal instances on one database: what one changes reaches the other's open pages.</summary>
public abstract class ChangeFeedTests(DatabaseKind kind) : HandlerTests(kind)
{
    [Fact]
    public async Task ARequestMadeOnOneInstance_ReachesTheOtherInstancesQueuesRequesterAndApprovers()
    {
        await using var other = App.SecondInstance();
        var feed = other.Services.GetRequiredService<ChangeFeedProcessor>();
        feed.Start();
        var seen = new List<PortalEvent>();
        other.Services.GetRequiredService<PortalEvents>().Raised += e =>
        {
            lock (seen)
            {
                seen.Add(e);
            }
        };

        await App.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);
        Assert.Empty(seen);

        Assert.True(await feed.PollAsync(CancellationToken.None) > 0);

        Assert.Contains(new PortalEvent(Guid.Empty, PortalEventKind.ApprovalsChanged), seen);
        Assert.Contains(new PortalEvent(DemoOrganisation.Alice.Id), seen);
        Assert.Contains(new PortalEvent(DemoOrganisation.Bob.Id, PortalEventKind.NotificationsChanged), seen);
        Assert.Contains(new PortalEvent(DemoOrganisation.Erin.Id, PortalEventKind.NotificationsChanged), seen);

        // Each change is carried once, even though the next look reaches back over it.
        seen.Clear();
        Assert.Equal(0, await feed.PollAsync(CancellationToken.None));
        Assert.Empty(seen);
    }

    [Fact]
    public async Task ADecisionOnOneInstance_MovesTheRequestersPageOnTheOther()
    {
        var id = await App.RequestAsync(DemoOrganisation.Alice, DemoOrganisation.GlobalAdministrator);
        await using var other = App.SecondInstance();
        var feed = other.Services.GetRequiredService<ChangeFeedProcessor>();
        feed.Start();
        var seen = new List<PortalEvent>();
        other.Services.GetRequiredService<PortalEvents>().Raised += seen.Add;

        await App.ApproveAsync(DemoOrganisation.Bob, id);
        await feed.PollAsync(CancellationToken.None);

        Assert.Contains(new PortalEvent(DemoOrganisation.Alice.Id), seen);
        Assert.Contains(new PortalEvent(DemoOrganisation.Alice.Id, PortalEventKind.NotificationsChanged), seen);
        Assert.Contains(new PortalEvent(Guid.Empty, PortalEventKind.ApprovalsChanged), seen);
    }

    [Fact]
    public async Task ARefusedAttempt_ChangesNothing_SoNoPageIsToldToReread()
    {
        await using var other = App.SecondInstance();
        var feed = other.Services.GetRequiredService<ChangeFeedProcessor>();
        feed.Start();
        var seen = new List<PortalEvent>();
        other.Services.GetRequiredService<PortalEvents>().Raised += seen.Add;

        await Assert.ThrowsAsync<Core.ForbiddenException>(() => App.ApproveAsync(DemoOrganisation.Carol, Guid.NewGuid()));
        await feed.PollAsync(CancellationToken.None);

        Assert.Empty(seen);
    }
}
