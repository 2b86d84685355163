using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Approvals;

public sealed class ApprovalRaceOnSqlite() : ApprovalRaceTests(DatabaseKind.Sqlite);

public sealed class ApprovalRaceOnPostgreSql() : ApprovalRaceTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ApprovalRaceOnSqlServer() : ApprovalRaceTests(DatabaseKind.SqlServer);
#endif

/// <summary>Decisions sent truly at once (released together on separate threads), round after round.</summary>
public abstract class ApprovalRaceTests(DatabaseKind kind) : HandlerTests(kind)
{
    private const int Rounds = 4;
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;

    [Fact]
    public async Task TwoApproversAtTheSameInstant_OnAOneOfNRequest_GiveExactlyOneActivation()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var id = await App.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

            var outcomes = await AtOnceAsync(() => App.ApproveAsync(Bob, id), () => App.ApproveAsync(Erin, id));

            var won = Assert.Single(outcomes, o => o.Result is not null);
            Assert.Equal(ActivationRequestStatus.Approved, won.Result!.Status);
            var lost = Assert.Single(outcomes, o => o.Error is not null);
            Assert.Equal("A request that is approved cannot be decided.", lost.Error!.Message);
            var request = await App.RequestRowAsync(id);
            Assert.Single(request.Decisions);
            var open = Assert.Single(await App.Db(db => db.Activations.AsNoTracking().Where(a => a.RequestId == id).ToListAsync()));
            Assert.Equal(request.ActivationId, open.Id);
            Assert.Equal(round + 1, (await App.AuditAsync(AuditActions.ActivationGranted)).Count);

            // Ready the next round: the role must not be active for the next request.
            App.NextCodeStep();
            await App.SendAs(Alice, new DeactivateRoles([open.Id]));
        }
    }

    [Fact]
    public async Task TwoApproversAtTheSameInstant_OnATwoOfNRequest_BothCount_AndItActivatesOnce()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var id = await App.RequestAsync(Alice, DemoOrganisation.PrivilegedRoleAdministrator);

            var outcomes = await AtOnceAsync(() => App.ApproveAsync(Bob, id), () => App.ApproveAsync(Erin, id));

            Assert.All(outcomes, o => Assert.Null(o.Error));
            Assert.Equal([1, 2], outcomes.Select(o => o.Result!.ApprovalsGiven).Order());
            Assert.Single(outcomes, o => o.Result!.Status == ActivationRequestStatus.Approved);
            var request = await App.RequestRowAsync(id);
            Assert.Equal((ActivationRequestStatus.Approved, 2), (request.Status, request.Decisions.Count));
            var open = Assert.Single(await App.Db(db => db.Activations.AsNoTracking().Where(a => a.RequestId == id).ToListAsync()));

            App.NextCodeStep();
            await App.SendAs(Alice, new DeactivateRoles([open.Id]));
        }
    }

    [Fact]
    public async Task ADoubleClick_CountsOnce_OnATwoOfNRequest()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var id = await App.RequestAsync(Alice, DemoOrganisation.PrivilegedRoleAdministrator);

            var outcomes = await AtOnceAsync(() => App.ApproveAsync(Bob, id), () => App.ApproveAsync(Bob, id));

            Assert.Single(outcomes, o => o.Result is { ApprovalsGiven: 1, Status: ActivationRequestStatus.Pending });
            var refused = Assert.Single(outcomes, o => o.Error is not null).Error!;
            Assert.Equal("You have already decided on this request.", refused.Message);
            var request = await App.RequestRowAsync(id);
            Assert.Equal((ActivationRequestStatus.Pending, 1), (request.Status, request.Decisions.Count));
            Assert.Empty(await App.Db(db => db.Activations.Where(a => a.RequestId == id).ToListAsync()));

            await App.SendAs(Alice, new CancelActivationRequest(id));
            App.NextCodeStep();
        }
    }

    [Fact]
    public async Task AnApprovalAndTheRequestersCancelAtTheSameInstant_EndOneWayOnly()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var id = await App.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);

            var outcomes = await AtOnceAsync(
                () => App.ApproveAsync(Bob, id),
                async () =>
                {
                    await App.SendAs(Alice, new CancelActivationRequest(id));
                    return new DecisionResult(id, ActivationRequestStatus.Cancelled, 0, 1, null, null);
                });

            Assert.Single(outcomes, o => o.Error is not null);
            var request = await App.RequestRowAsync(id);
            var activations = await App.Db(db => db.Activations.AsNoTracking().Where(a => a.RequestId == id).ToListAsync());
            if (request.Status == ActivationRequestStatus.Approved)
            {
                await App.SendAs(Alice, new DeactivateRoles([Assert.Single(activations).Id]));
            }
            else
            {
                Assert.Equal(ActivationRequestStatus.Cancelled, request.Status);
                Assert.Empty(activations);
            }

            App.NextCodeStep();
        }
    }

    private static async Task<IReadOnlyList<(DecisionResult? Result, PimException? Error)>> AtOnceAsync(params Func<Task<DecisionResult>>[] actions)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = actions.Select(action => Task.Run(async () =>
        {
            await go.Task;
            try
            {
                return ((DecisionResult?)await action(), (PimException?)null);
            }
            catch (PimException ex)
            {
                return (null, ex);
            }
        })).ToList();
        go.SetResult();
        return await Task.WhenAll(running);
    }
}
