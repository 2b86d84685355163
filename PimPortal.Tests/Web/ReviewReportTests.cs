using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Web;

/// <summary>An access review's report behind the real sign-in: CSV for governance leads only.</summary>
public sealed class ReviewReportTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task AGovernanceLead_DownloadsTheReport_OthersAreRefused()
    {
        var instance = await OpenReviewAsync();
        var carol = factory.Browser();
        await PortalFactory.SignInAsync(carol, DemoOrganisation.Carol.Email, DemoOrganisation.Password);
        var alice = factory.Browser();
        await PortalFactory.SignInAsync(alice, DemoOrganisation.Alice.Email, DemoOrganisation.Password);

        using var response = await carol.GetAsync($"/reviews/instances/{instance}/report");
        using var refused = await alice.GetAsync($"/reviews/instances/{instance}/report");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("attachment; filename=\"pimportal-access-review-", response.Content.Headers.ContentDisposition!.ToString(), StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("principal,principalId,assignment,role,", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith($"Alice Adams,{DemoOrganisation.Alice.Id},Eligible,Exchange Administrator,", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/access-denied", refused.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.DoesNotContain("principal,principalId", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownReview_IsNotFound_NotAnEmptyFile()
    {
        var carol = factory.Browser();
        await PortalFactory.SignInAsync(carol, DemoOrganisation.Carol.Email, DemoOrganisation.Password);

        using var response = await carol.GetAsync($"/reviews/instances/{Guid.NewGuid()}/report");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.Contains("That review does not exist.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A one-time review of Exchange Administrator, opened by the worker's pass; returns its instance.</summary>
    private async Task<Guid> OpenReviewAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var definition = new AccessReviewDefinition(Guid.NewGuid(), "Exchange review", null, ReviewAssignments.Eligible, null, 90, ReviewerKind.Named,
            new ReviewSchedule(now, ReviewFrequency.OneTime, 7), new AccessReviewSettings(false, ReviewDefaultDecision.NoChange, true, true),
            [DemoOrganisation.ExchangeAdministrator.Id], [DemoOrganisation.Bob.Id], DemoOrganisation.Carol.Id, now);
        await using (var db = await factory.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync())
        {
            db.AccessReviewDefinitions.Add(definition);
            await db.SaveChangesAsync();
        }

        await factory.Services.GetRequiredService<AccessReviewProcessor>().OpenDueAsync(CancellationToken.None);
        await using var read = await factory.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContextAsync();
        return await read.AccessReviewInstances.Where(i => i.DefinitionId == definition.Id).Select(i => i.Id).SingleAsync();
    }
}
