using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Components;
using PimPortal.Components.Pages.Audit;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Components;

/// <summary>The audit pages against the real Core.</summary>
public sealed class AuditPagesTests : PortalComponentTest
{
    [Fact]
    public async Task Audit_ListsEventsNewestFirst_AndFindsAJustification()
    {
        SignIn(DemoOrganisation.Dave);
        await ActivateExchangeAsync("Mailbox migration for legal");

        var page = RenderPage<AuditPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("tr[data-action]")));
        Assert.Equal(AuditActions.ActivationGranted, page.FindAll("tr[data-action]")[0].GetAttribute("data-action"));

        await page.Find("#audit-text").ChangeAsync(new ChangeEventArgs { Value = "legal" });
        await ClickAsync(page.Find("button[data-testid=search]"));

        page.WaitForAssertion(() => Assert.Equal([AuditActions.ActivationRequested], page.FindAll("tr[data-action]").Select(r => r.GetAttribute("data-action"))));
        Assert.Contains("requests/", page.Find("tr[data-action] a").GetAttribute("href"), StringComparison.Ordinal);
        Assert.Equal("1", page.Find("tr[data-activator='Alice Adams'] td:last-child").TextContent);
        Assert.Contains("No approval decided in the period.", page.Find("[data-testid=latency]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MyAudit_ShowsOnlyMyOwnEvents()
    {
        SignIn(DemoOrganisation.Bob);
        await ActivateExchangeAsync("Alice's own work");

        var page = RenderPage<MyAuditPage>();

        page.WaitForElement("[data-testid=no-events]");
    }

    private async Task ActivateExchangeAsync(string why)
    {
        var eligibility = await DbAsync(db => db.Eligibilities.Where(e => e.PrincipalId == DemoOrganisation.Alice.Id && e.RoleId == DemoOrganisation.ExchangeAdministrator.Id)
            .Select(e => e.Id).SingleAsync());
        await SendAsAsync(DemoOrganisation.Alice, new ActivateRoles([new ActivationItem(eligibility, TimeSpan.FromHours(1))], why, null, null, null));
    }
}
