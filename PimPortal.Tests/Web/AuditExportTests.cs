using System.Net;
using PimPortal.Core.Domain;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

/// <summary>The audit export endpoint behind the real sign-in: streamed CSV or JSON lines for auditors only.</summary>
public sealed class AuditExportTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task AnAuditor_DownloadsTheFilteredTrail_AsCsv()
    {
        var dave = factory.Browser();
        await PortalFactory.SignInAsync(dave, DemoOrganisation.Dave.Email, DemoOrganisation.Password);

        using var response = await dave.GetAsync($"/audit/export?format=csv&action={AuditActions.SignInSucceeded}&outcome=success");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("attachment; filename=\"pimportal-audit-", response.Content.Headers.ContentDisposition!.ToString(), StringComparison.Ordinal);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,occurredAt,actor,actorId,action,", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines.Skip(1), l => l.Contains(",signin.succeeded,", StringComparison.Ordinal) && l.Contains("dave@contoso.test", StringComparison.Ordinal));
        Assert.All(lines.Skip(1), l => Assert.Contains(",signin.succeeded,", l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnAuditor_DownloadsJsonLines()
    {
        var dave = factory.Browser();
        await PortalFactory.SignInAsync(dave, DemoOrganisation.Dave.Email, DemoOrganisation.Password);

        using var response = await dave.GetAsync("/audit/export?format=jsonl");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal(System.Text.Json.JsonValueKind.Object, System.Text.Json.JsonDocument.Parse(l).RootElement.ValueKind));
    }

    [Fact]
    public async Task SomeoneWhoIsNeitherAuditorNorAdministrator_IsRefused_AndABadFilterIsNamed()
    {
        var alice = factory.Browser();
        await PortalFactory.SignInAsync(alice, DemoOrganisation.Alice.Email, DemoOrganisation.Password);
        var dave = factory.Browser();
        await PortalFactory.SignInAsync(dave, DemoOrganisation.Dave.Email, DemoOrganisation.Password);

        using var refused = await alice.GetAsync("/audit/export?format=csv");
        using var bad = await dave.GetAsync("/audit/export?format=csv&from=yesterday");

        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
        Assert.DoesNotContain("id,occurredAt", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("The filter 'from' is not valid.", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
