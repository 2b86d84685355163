using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>Shortcuts for the approval suites.</summary>
public static class ApprovalArrange
{
    /// <summary>A request of <paramref name="who"/> for an approval role, as from the page (with a valid code).</summary>
    public static async Task<Guid> RequestAsync(this TestApp app, DemoAccount who, DemoRole role, TimeSpan? duration = null, DateTimeOffset? startAt = null)
    {
        var eligibility = await app.EligibilityOf(who, role);
        var result = await app.SendAs(who, new ActivateRoles(
            [new ActivationItem(eligibility, duration ?? TimeSpan.FromHours(1))], "Approved change window", "CHG42", "ServiceNow",
            role.Mfa ? app.CodeFor(who) : null, startAt));
        return result.Items.Single().RequestId;
    }

    public static Task<DecisionResult> ApproveAsync(this TestApp app, DemoAccount approver, Guid requestId, string? reason = null) =>
        app.SendAs(approver, new DecideRequest(requestId, ApprovalVerdict.Approve, reason));

    public static Task<DecisionResult> DenyAsync(this TestApp app, DemoAccount approver, Guid requestId, string reason) =>
        app.SendAs(approver, new DecideRequest(requestId, ApprovalVerdict.Deny, reason));

    public static Task<ActivationRequest> RequestRowAsync(this TestApp app, Guid id) =>
        app.Db(db => db.ActivationRequests.AsNoTracking().Include(r => r.Decisions).SingleAsync(r => r.Id == id));

    public static Task<List<RoleActivation>> ActivationsOfAsync(this TestApp app, DemoAccount who, DemoRole role) =>
        app.Db(db => db.Activations.AsNoTracking().Where(a => a.PrincipalId == who.Id && a.RoleId == role.Id).ToListAsync());

    public static Task<List<Notification>> NotificationsAsync(this TestApp app, DemoAccount who) =>
        app.Db(db => db.Notifications.AsNoTracking().Where(n => n.RecipientId == who.Id).OrderBy(n => n.CreatedAt).ToListAsync());

    /// <summary>Changes a role's approvers or a principal directly, as an administrator (issue 5) or the directory would.</summary>
    public static Task ChangeAsync(this TestApp app, Func<Core.Persistence.PimDbContext, Task> change) =>
        app.Db(async db =>
        {
            await change(db);
            await db.SaveChangesAsync();
        });

    public static async Task<RoleSettings> SettingsOf(Core.Persistence.PimDbContext db, DemoRole role) =>
        await db.RoleSettings.Include(s => s.Approvers).SingleAsync(s => s.RoleId == role.Id);
}
