using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Components.Pages.Reviews;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle.Reviews;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Components;

/// <summary>The access review pages against the real Core: a reviewer deciding lines, a governance lead's definitions and results.</summary>
public sealed class AccessReviewPagesTests : PortalComponentTest
{
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;
    private static readonly DemoAccount Carol = DemoOrganisation.Carol;

    [Fact]
    public async Task Reviewer_DeniesSelectedLinesInBulk_WithAReason_AndSeesTheProgress()
    {
        SignIn(Bob);
        var instance = await OpenReviewAsync(DemoOrganisation.ExchangeAdministrator, DemoOrganisation.GlobalAdministrator);
        var page = RenderPage<ReviewLinesPage>(new Dictionary<string, object?> { ["Id"] = instance });
        page.WaitForElement("tr[data-line='Alice Adams'][data-role='Exchange Administrator']");
        Assert.Empty(page.FindAll("tr[data-line='Bob Brown']"));
        Assert.Contains("0 of 2 decided", page.Find("[data-testid=my-progress]").TextContent, StringComparison.Ordinal);

        await page.Find("input[data-testid=select-all]").ChangeAsync(new ChangeEventArgs { Value = true });
        await ClickAsync(page.Find("button[data-testid=bulk-deny]"));
        page.WaitForAssertion(() => Assert.Contains("Say why the access should be removed", page.Find("[data-testid=review-error]").TextContent, StringComparison.Ordinal));

        await page.Find("#review-reason").InputAsync(new ChangeEventArgs { Value = "Team disbanded" });
        await ClickAsync(page.Find("button[data-testid=bulk-deny]"));

        page.WaitForAssertion(() => Assert.Contains("2 of 2 decided", page.Find("[data-testid=my-progress]").TextContent, StringComparison.Ordinal));
        var lines = await DbAsync(db => db.AccessReviewItems.Where(i => i.InstanceId == instance && i.PrincipalId == DemoOrganisation.Alice.Id).ToListAsync());
        Assert.All(lines, l => Assert.Equal((ReviewDecision.Deny, "Team disbanded", (Guid?)Bob.Id), (l.Decision, l.Reason, l.DecidedBy)));
    }

    [Fact]
    public async Task Reviewer_AcceptsTheRecommendationOfEachSelectedLine()
    {
        SignIn(Bob);
        var instance = await OpenReviewAsync(DemoOrganisation.ExchangeAdministrator);
        var page = RenderPage<ReviewLinesPage>(new Dictionary<string, object?> { ["Id"] = instance });
        page.WaitForElement("tr[data-line='Alice Adams']");
        await page.Find("#review-reason").InputAsync(new ChangeEventArgs { Value = "Never used" });

        await page.Find("input[data-testid=select-all]").ChangeAsync(new ChangeEventArgs { Value = true });
        await ClickAsync(page.Find("button[data-testid=accept-recommendations]"));

        page.WaitForAssertion(() => Assert.Equal("Deny", page.Find("tr[data-line='Alice Adams']").GetAttribute("data-decision")));
    }

    [Fact]
    public async Task GovernanceLead_SeesEachReviewWithItsLatestRunsProgress()
    {
        SignIn(Carol);
        await OpenReviewAsync(DemoOrganisation.GlobalAdministrator);

        var list = RenderPage<AccessReviewsPage>();

        list.WaitForAssertion(() => Assert.Contains("0 of 2 decided", list.Find("[data-testid=reviews]").TextContent, StringComparison.Ordinal));
        Assert.Contains("Named reviewers", list.Find("[data-testid=reviews]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GovernanceLead_SeesARunsResults_AndEndsItEarly()
    {
        SignIn(Carol);
        var instance = await OpenReviewAsync(DemoOrganisation.GlobalAdministrator);
        var results = RenderPage<ReviewResultsPage>(new Dictionary<string, object?> { ["Id"] = instance });
        results.WaitForElement("tr[data-line='Alice Adams'][data-role='Global Administrator']");
        Assert.Contains("Not reviewed 2", results.Find("[data-testid=review-tally]").TextContent, StringComparison.Ordinal);

        // The click's handler waits for the dialog's answer: it completes once the dialog is submitted.
        var ending = ClickAsync(results.Find("button[data-testid=review-end-now]"));
        await results.WaitForElement("#reason-text").InputAsync(new ChangeEventArgs { Value = "Audit moved" });
        await ClickAsync(results.Find("button[data-testid=reason-submit]"));
        await ending;

        results.WaitForAssertion(() => Assert.Equal(nameof(ReviewInstanceStatus.Completed), results.Find("[data-testid=review-progress]").GetAttribute("data-status")));
        Assert.NotNull(results.Find("button[data-testid=review-apply]"));
    }

    [Fact]
    public async Task GovernanceLead_AppliesTheResults_InTheBackground_AndSeesTheProgress()
    {
        SignIn(Carol);
        var instance = await OpenReviewAsync(DemoOrganisation.GlobalAdministrator);
        await ArrangeAsync(async db =>
        {
            await db.AccessReviewItems.Where(i => i.InstanceId == instance).ExecuteUpdateAsync(s => s.SetProperty(i => i.Decision, ReviewDecision.Deny).SetProperty(i => i.Reason, "Not needed"));
            (await db.AccessReviewInstances.SingleAsync(i => i.Id == instance)).Complete(Time.GetUtcNow());
            await db.SaveChangesAsync();
        });
        var results = RenderPage<ReviewResultsPage>(new Dictionary<string, object?> { ["Id"] = instance });
        results.WaitForElement("button[data-testid=review-apply]");

        await ClickAsync(results.Find("button[data-testid=review-apply]"));

        // Asked, not done: the page shows the application going on, and no second Apply.
        results.WaitForAssertion(() => Assert.Contains("0 of 2 denials done", results.Find("[data-testid=review-applying]").TextContent, StringComparison.Ordinal));
        Assert.Empty(results.FindAll("button[data-testid=review-apply]"));
        Assert.Equal(2, await DbAsync(db => db.Eligibilities.CountAsync(e => e.RoleId == DemoOrganisation.GlobalAdministrator.Id && e.RemovedAt == null)));

        // The worker applies; the open page hears of it and shows the result.
        await Context.Services.GetRequiredService<ReviewResults>().ApplyAsync(instance, CancellationToken.None);

        results.WaitForAssertion(() => Assert.Equal(nameof(ReviewInstanceStatus.Applied), results.Find("[data-testid=review-progress]").GetAttribute("data-status")));
        Assert.Contains("2 removed", results.Find("[data-testid=review-progress]").TextContent, StringComparison.Ordinal);
        Assert.Empty(results.FindAll("[data-testid=review-applying]"));
    }

    [Fact]
    public async Task NewReview_ExplainsWhatIsMissing_AndCreatesNothing()
    {
        SignIn(Carol);
        var form = RenderPage<NewReviewPage>();
        form.WaitForElement("button[data-testid=review-create]");

        await ClickAsync(form.Find("button[data-testid=review-create]"));

        form.WaitForAssertion(() =>
        {
            var error = form.Find("[data-testid=review-error]").TextContent;
            Assert.Contains("Give the review a name.", error, StringComparison.Ordinal);
            Assert.Contains("Choose at least one role to review.", error, StringComparison.Ordinal);
            Assert.Contains("Name at least one reviewer", error, StringComparison.Ordinal);
        });
        Assert.Equal(0, await DbAsync(db => db.AccessReviewDefinitions.CountAsync()));
    }

    /// <summary>A one-time review of <paramref name="roles"/> by bob, created by carol and opened by the worker's pass.</summary>
    private async Task<Guid> OpenReviewAsync(params DemoRole[] roles)
    {
        var review = new AccessReviewInput("Quarterly review", null, [.. roles.Select(r => r.Id)], ReviewAssignments.Eligible, null, 90, ReviewerKind.Named, [Bob.Id],
            Time.GetUtcNow(), ReviewFrequency.OneTime, 14, ReviewEnd.Never, null, null, false, ReviewDefaultDecision.NoChange, true, true);
        var definition = await SendAsAsync(Carol, new CreateAccessReview(review));
        await Context.Services.GetRequiredService<AccessReviewProcessor>().OpenDueAsync(CancellationToken.None);
        return await DbAsync(db => db.AccessReviewInstances.Where(i => i.DefinitionId == definition).Select(i => i.Id).SingleAsync());
    }
}
