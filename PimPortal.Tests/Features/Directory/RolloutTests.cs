using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Directory;

public sealed class RolloutOnSqlite() : RolloutTests(DatabaseKind.Sqlite);

public sealed class RolloutOnPostgreSql() : RolloutTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class RolloutOnSqlServer() : RolloutTests(DatabaseKind.SqlServer);
#endif

/// <summary>The rollout's first move: import the standing assignments and convert the chosen ones to eligible in one step.</summary>
public abstract class RolloutTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;
    private static readonly DemoRole UserAdmin = DemoOrganisation.UserAdministrator;

    [Fact]
    public async Task Import_ListsEveryStandingAssignment_BreakGlassAsNotConvertible()
    {
        await App.StandingAsync(DemoOrganisation.Dave, Exchange);
        await App.StandingAsync(DemoOrganisation.Alice, Exchange);
        await App.ActivateAsync(DemoOrganisation.Alice, UserAdmin);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var standing = await App.QueryAs(Erin, new ImportStandingAssignments());

        Assert.Equal(
            [("Exchange Administrator", "Alice Adams", true, true), ("Exchange Administrator", "Dave Davis", true, false), ("Global Administrator", "Break Glass", false, false)],
            standing.Select(s => (s.RoleName, s.PrincipalName, s.CanConvert, s.AlreadyEligible)));
        Assert.Equal("A break-glass account keeps its standing access.", standing[^1].Blocker);
    }

    [Fact]
    public async Task Convert_MakesTheChosenEligible_AndRemovesTheirStandingAssignments_InOneStep()
    {
        await App.StandingAsync(DemoOrganisation.Dave, Exchange);
        await App.StandingAsync(DemoOrganisation.Carol, UserAdmin);
        await App.Services.GetRequiredService<DriftScanner>().ScanAsync(CancellationToken.None);

        var outcomes = await App.SendAs(Erin, new ConvertStandingAssignments(
            [new StandingRef(DemoOrganisation.Dave.Id, Exchange.Id, "/"), new StandingRef(DemoOrganisation.Carol.Id, UserAdmin.Id, "/")],
            TestApp.Start.AddDays(180), "Rollout wave 1: standing admins become eligible"));

        Assert.All(outcomes, o => Assert.True(o.Removed));
        Assert.DoesNotContain(await App.QueryAs(Erin, new ImportStandingAssignments()), s => s.CanConvert);
        var daves = Assert.Single(await App.EligibilitiesAsync(DemoOrganisation.Dave.Id, Exchange));
        Assert.Equal(TestApp.Start.AddDays(180), daves.NotAfter);
        Assert.Equal(2, (await App.AuditAsync(AuditActions.RolloutConverted)).Count(e => e.Outcome == AuditOutcome.Success));
        Assert.Equal(2, (await App.AuditAsync(AuditActions.EligibilityCreated)).Count);
        Assert.Equal(0, await App.Db(db => db.DriftFindings.CountAsync(f => f.ResolvedAt == null)));
        Assert.NotNull((await App.ActivateAsync(DemoOrganisation.Dave, Exchange)).ActivationId);
    }

    [Fact]
    public async Task Convert_WithoutAnEnd_FollowsTheRolesRules()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { AllowPermanentEligibility = false, MaxEligibilityDays = 30 });
        await App.StandingAsync(DemoOrganisation.Dave, Exchange);

        await App.SendAs(Erin, new ConvertStandingAssignments([new StandingRef(DemoOrganisation.Dave.Id, Exchange.Id, "/")], null, "Rollout"));

        Assert.Equal(TestApp.Start.AddDays(30), (await App.EligibilitiesAsync(DemoOrganisation.Dave.Id, Exchange)).Single().NotAfter);
    }

    [Fact]
    public async Task Convert_ABreakGlassAccountOrSomethingNoLongerStanding_IsRefused_AndNothingIsWritten()
    {
        await App.StandingAsync(DemoOrganisation.Dave, Exchange);
        var ga = DemoOrganisation.GlobalAdministrator;

        var breakGlass = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Erin, new ConvertStandingAssignments(
            [new StandingRef(DemoOrganisation.Dave.Id, Exchange.Id, "/"), new StandingRef(DemoOrganisation.BreakGlass.Id, ga.Id, "/")], null, "Rollout")));
        var gone = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Erin, new ConvertStandingAssignments(
            [new StandingRef(DemoOrganisation.Carol.Id, Exchange.Id, "/")], null, "Rollout")));

        Assert.Equal("Break Glass is a break-glass account and keeps its standing access.", breakGlass.Message);
        Assert.Equal("A chosen assignment is no longer standing in the directory; import again.", gone.Message);
        Assert.Empty(await App.EligibilitiesAsync(DemoOrganisation.Dave.Id, Exchange));
        Assert.Empty(await App.AuditAsync(AuditActions.RolloutConverted));
    }

    [Fact]
    public async Task OnlyAPimAdministrator_ImportsOrConverts()
    {
        var import = await Assert.ThrowsAsync<ForbiddenException>(() => App.QueryAs(DemoOrganisation.Carol, new ImportStandingAssignments()));
        var convert = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(DemoOrganisation.Alice,
            new ConvertStandingAssignments([new StandingRef(DemoOrganisation.Alice.Id, Exchange.Id, "/")], null, "Me")));

        Assert.Equal("This needs the PimAdministrator permission.", import.Message);
        Assert.Equal("This needs the PimAdministrator permission.", convert.Message);
    }
}
