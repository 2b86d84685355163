using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Policy;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Activation;

public sealed class GetMyRolesOnSqlite() : GetMyRolesTests(DatabaseKind.Sqlite);

public sealed class GetMyRolesOnPostgreSql() : GetMyRolesTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class GetMyRolesOnSqlServer() : GetMyRolesTests(DatabaseKind.SqlServer);
#endif

public abstract class GetMyRolesTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task Alice_SeesHerSixEligibleRolesWithWhatEachRequires()
    {
        var mine = await App.QueryAs(Alice, new GetMyRoles());

        Assert.Equal(6, mine.Eligible.Count);
        var globalAdmin = Assert.Single(mine.Eligible, r => r.RoleId == DemoOrganisation.GlobalAdministrator.Id);
        Assert.Equal((RoleKind.DirectoryRole, "/", TimeSpan.FromHours(4)), (globalAdmin.Kind, globalAdmin.Scope, globalAdmin.MaxDuration));
        Assert.True(globalAdmin is { RequiresMfa: true, RequiresJustification: true, RequiresTicket: true, RequiresApproval: true, ApprovalsNeeded: 1 });
        Assert.Null(globalAdmin.NotAfter);
        var contributor = Assert.Single(mine.Eligible, r => r.RoleId == DemoOrganisation.ContributorOnRgProd.Id);
        Assert.Equal((RoleKind.AzureResourceRole, "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-prod"), (contributor.Kind, contributor.Scope));
        Assert.Empty(mine.Active);
        Assert.Empty(mine.Pending);
        Assert.Null(mine.MfaFreshUntil);
    }

    [Fact]
    public async Task Bob_SeesOnlyHisOwnEligibilities()
    {
        var mine = await App.QueryAs(DemoOrganisation.Bob, new GetMyRoles());

        Assert.Equal(["Global Administrator", "User Administrator"], mine.Eligible.Select(e => e.RoleName));
    }

    [Fact]
    public async Task AfterActivating_TheRoleIsActiveAndMfaIsFreshForFiveMinutes()
    {
        await App.ActivateAsync(Alice, DemoOrganisation.UserAdministrator, TimeSpan.FromHours(3));
        await App.ActivateAsync(Alice, DemoOrganisation.GlobalAdministrator, ticket: "INC3");

        var mine = await App.QueryAs(Alice, new GetMyRoles());

        var active = Assert.Single(mine.Active);
        Assert.Equal((ActivationStatus.Provisioning, TestApp.Start.AddHours(3), "Routine maintenance"), (active.Status, active.NotAfter, active.Justification));
        Assert.True(Assert.Single(mine.Eligible, r => r.RoleId == DemoOrganisation.UserAdministrator.Id).IsActive);
        var pending = Assert.Single(mine.Pending);
        Assert.Equal(("Global Administrator", 1, 0), (pending.RoleName, pending.ApprovalsNeeded, pending.ApprovalsGiven));
        Assert.True(Assert.Single(mine.Eligible, r => r.RoleId == DemoOrganisation.GlobalAdministrator.Id).IsPending);
        Assert.Equal(TestApp.Start.AddMinutes(5), mine.MfaFreshUntil);
    }

    [Fact]
    public async Task EndedEligibility_IsNoLongerListed()
    {
        await App.Db(async db =>
        {
            db.Eligibilities.Add(new RoleEligibility(Guid.NewGuid(), DemoOrganisation.Dave.Id, DemoOrganisation.ExchangeAdministrator.Id, "/", TestApp.Start.AddDays(-2), TestApp.Start.AddHours(1), DemoOrganisation.Erin.Id, TestApp.Start));
            await db.SaveChangesAsync();
        });
        Assert.Single((await App.QueryAs(DemoOrganisation.Dave, new GetMyRoles())).Eligible);

        App.Time.Advance(TimeSpan.FromHours(1));

        Assert.Empty((await App.QueryAs(DemoOrganisation.Dave, new GetMyRoles())).Eligible);
    }
}

public sealed class PreviewActivationOnSqlite() : PreviewActivationTests(DatabaseKind.Sqlite);

public abstract class PreviewActivationTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;

    [Fact]
    public async Task Preview_OfGlobalAdministrator_SaysWhatItWillRequireAndWritesNothing()
    {
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.GlobalAdministrator);

        var preview = await App.QueryAs(Alice, new PreviewActivation([new ActivationItem(eligibility, TimeSpan.FromHours(1))], null, null, null, CodeEntered: false));

        Assert.True(preview is { NeedsMfaCode: true, NeedsJustification: true, NeedsTicket: true, CanSubmit: false });
        Assert.Equal(TimeSpan.FromHours(4), preview.MaxDuration);
        var decision = Assert.Single(preview.Items).Decision;
        Assert.Contains(decision.Requirements, r => r.Description == "Approval by 1 of: Bob Brown, Erin Evans");
        Assert.Equal(
            [PolicyViolationCode.JustificationMissing, PolicyViolationCode.TicketMissing, PolicyViolationCode.MfaRequired],
            decision.Violations.Select(v => v.Code));
        Assert.Equal(0, await App.CountAsync<ActivationRequest>());
        Assert.Equal([AuditActions.DemoSeeded], (await App.AuditAsync()).Select(e => e.Action));
    }

    [Fact]
    public async Task Preview_WithEverythingFilledIn_CanBeSubmitted()
    {
        var eligibility = await App.EligibilityOf(Alice, DemoOrganisation.GlobalAdministrator);

        var preview = await App.QueryAs(Alice, new PreviewActivation([new ActivationItem(eligibility, TimeSpan.FromHours(1))], "Why", "INC1", "Jira", CodeEntered: true));

        Assert.True(preview.CanSubmit);
        Assert.Equal(PolicyVerdict.NeedsApproval, Assert.Single(preview.Items).Decision.Verdict);
    }

    [Fact]
    public async Task Preview_OfSeveralRoles_OffersTheShortestMaximum()
    {
        var items = new[]
        {
            new ActivationItem(await App.EligibilityOf(Alice, DemoOrganisation.ExchangeAdministrator), TimeSpan.FromHours(3)),
            new ActivationItem(await App.EligibilityOf(Alice, DemoOrganisation.PrivilegedRoleAdministrator), TimeSpan.FromHours(3)),
        };

        var preview = await App.QueryAs(Alice, new PreviewActivation(items, "Why", null, null, false));

        Assert.Equal(TimeSpan.FromHours(2), preview.MaxDuration);
        Assert.Contains(preview.Items[1].Decision.Violations, v => v.Code == PolicyViolationCode.DurationOverMaximum);
    }
}
