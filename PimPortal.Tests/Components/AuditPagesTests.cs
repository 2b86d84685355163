using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
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
    public async Task Verify_SaysIntact_ThenNamesTheEditedEvent()
    {
        SignIn(DemoOrganisation.Dave);
        await ActivateExchangeAsync("Mailbox migration for legal");
        var trail = Context.Services.GetRequiredService<PimPortal.Core.Audit.AuditTrail>();
        await trail.SealAsync(CancellationToken.None);
        var page = RenderPage<AuditPage>();

        await ClickAsync(page.Find("button[data-testid=verify]"));
        page.WaitForAssertion(() => Assert.StartsWith("Intact:", page.Find("[data-testid=verification]").TextContent.Trim(), StringComparison.Ordinal));

        var victim = await DbAsync(db => db.AuditEvents.Where(e => e.Action == AuditActions.ActivationRequested).Select(e => e.Id).SingleAsync());
        await DbAsync(async db =>
        {
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER \"TR_AuditEvents_NoUpdate\"");
            return await db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"Details\" = 'nothing happened' WHERE \"Id\" = {victim}");
        });
        await ClickAsync(page.Find("button[data-testid=verify]"));

        page.WaitForAssertion(() => Assert.Contains($"Broken: Event #{victim}", page.Find("[data-testid=verification]").TextContent, StringComparison.Ordinal));
        await ClickAsync(page.Find("[data-testid=show-broken]"));
        page.WaitForAssertion(() => Assert.Equal(victim.ToString(System.Globalization.CultureInfo.InvariantCulture), page.FindAll("tr[data-action]")[0].GetAttribute("data-id")));
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
