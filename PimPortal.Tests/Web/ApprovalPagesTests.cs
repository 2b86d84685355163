using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

/// <summary>The approval pages as the server renders them, behind the real sign-in.</summary>
public sealed class ApprovalPagesTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory factory;

    public ApprovalPagesTests(PortalFactory factory) => this.factory = factory;

    [Fact]
    public async Task TheQueue_AndTheRequestPage_ServeTheApprover_AndTheRequestPageHidesFromOthers()
    {
        var id = await PendingRequestOfAliceAsync();
        var bob = factory.Browser();
        await PortalFactory.SignInAsync(bob, DemoOrganisation.Bob.Email, DemoOrganisation.Password);

        var queue = await bob.GetStringAsync("/approvals");
        Assert.Contains($"data-request=\"{id}\"", queue, StringComparison.Ordinal);
        Assert.Contains("Email notifications are off: no SMTP server is configured.", queue, StringComparison.Ordinal);
        var details = await bob.GetStringAsync($"/requests/{id}");
        Assert.Contains("Pending approval", details, StringComparison.Ordinal);
        Assert.Contains("Served by the web test", details, StringComparison.Ordinal);

        var carol = factory.Browser();
        await PortalFactory.SignInAsync(carol, DemoOrganisation.Carol.Email, DemoOrganisation.Password);
        var hidden = await carol.GetStringAsync($"/requests/{id}");
        Assert.Contains("That request does not exist, or you may not see it.", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain("Served by the web test", hidden, StringComparison.Ordinal);
        Assert.DoesNotContain($"data-request=\"{id}\"", await carol.GetStringAsync("/approvals"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheApprovalPages_NeedASignIn()
    {
        var anonymous = factory.Browser();

        var queue = await anonymous.GetAsync("/approvals");
        var details = await anonymous.GetAsync($"/requests/{Guid.NewGuid()}");

        Assert.Equal((System.Net.HttpStatusCode.Redirect, System.Net.HttpStatusCode.Redirect), (queue.StatusCode, details.StatusCode));
        Assert.Contains("/signin", queue.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A pending request of alice for Global Administrator, written as the command would (the request itself is the handler suites' concern).</summary>
    private async Task<Guid> PendingRequestOfAliceAsync()
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        var eligibility = await db.Eligibilities.AsNoTracking()
            .SingleAsync(e => e.PrincipalId == DemoOrganisation.Alice.Id && e.RoleId == DemoOrganisation.GlobalAdministrator.Id);
        var now = DateTimeOffset.UtcNow;
        var request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, DemoOrganisation.Alice.Id, TimeSpan.FromHours(1),
            new RequestDetails("Served by the web test", "CHG9", "ServiceNow"), now, now, 1, TimeSpan.FromHours(24));
        db.ActivationRequests.Add(request);
        await db.SaveChangesAsync();
        return request.Id;
    }
}
