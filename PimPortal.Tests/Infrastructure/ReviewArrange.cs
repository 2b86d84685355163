using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Jobs;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>Shortcuts for access reviews: a definition to start from, the worker's pass, an instance's lines.</summary>
public static class ReviewArrange
{
    /// <summary>A one-time review of <paramref name="roles"/>' eligibilities by bob, from now for 14 days, applied automatically.</summary>
    public static AccessReviewInput Review(this TestApp app, params DemoRole[] roles) => new(
        "Privileged roles review", null, [.. roles.Select(r => r.Id)], ReviewAssignments.Eligible, null, AccessReviewDefinition.DefaultInactiveDays,
        ReviewerKind.Named, [DemoOrganisation.Bob.Id], app.Time.GetUtcNow(), ReviewFrequency.OneTime, 14, ReviewEnd.Never, null, null,
        RequireReasonOnApprove: false, ReviewDefaultDecision.NoChange, AutoApply: true, Reminders: true);

    public static AccessReviewProcessor Reviews(this TestApp app) => app.Services.GetRequiredService<AccessReviewProcessor>();

    /// <summary>Creates the review as carol (governance lead) and runs the worker's pass; returns the definition.</summary>
    public static async Task<Guid> StartReviewAsync(this TestApp app, AccessReviewInput review)
    {
        var id = await app.SendAs(DemoOrganisation.Carol, new CreateAccessReview(review));
        await app.Reviews().RunAsync(CancellationToken.None);
        return id;
    }

    public static Task<List<AccessReviewInstance>> InstancesAsync(this TestApp app, Guid definitionId) =>
        app.Db(db => db.AccessReviewInstances.AsNoTracking().Where(i => i.DefinitionId == definitionId).OrderBy(i => i.Run).ToListAsync());

    public static async Task<AccessReviewInstance> LatestInstanceAsync(this TestApp app, Guid definitionId) => (await app.InstancesAsync(definitionId))[^1];

    public static Task<List<AccessReviewItem>> LinesAsync(this TestApp app, Guid instanceId) =>
        app.Db(db => db.AccessReviewItems.AsNoTracking().Where(i => i.InstanceId == instanceId).OrderBy(i => i.PrincipalName).ThenBy(i => i.RoleName).ToListAsync());

    public static async Task<AccessReviewItem> LineAsync(this TestApp app, Guid instanceId, DemoAccount who, DemoRole role) =>
        (await app.LinesAsync(instanceId)).Single(i => i.PrincipalId == who.Id && i.RoleId == role.Id);

    /// <summary>Moves the clock on a day at a time until <paramref name="until"/>, running the worker's pass each day.</summary>
    public static async Task RunDaysUntilAsync(this TestApp app, DateTimeOffset until)
    {
        while (app.Time.GetUtcNow() < until)
        {
            app.Time.Advance(TimeSpan.FromDays(1));
            await app.Reviews().RunAsync(CancellationToken.None);
        }
    }
}
