using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>Shortcuts for arranging and asserting against the demo organisation.</summary>
public static class Arrange
{
    public static Task<Guid> EligibilityOf(this TestApp app, DemoAccount who, DemoRole role) =>
        app.Db(db => db.Eligibilities.Where(e => e.PrincipalId == who.Id && e.RoleId == role.Id && e.RemovedAt == null).Select(e => e.Id).SingleAsync());

    /// <summary>Activates <paramref name="role"/> for <paramref name="who"/> with a valid code where needed.</summary>
    public static async Task<ActivationOutcome> ActivateAsync(this TestApp app, DemoAccount who, DemoRole role, TimeSpan? duration = null, string? ticket = null)
    {
        var eligibility = await app.EligibilityOf(who, role);
        var result = await app.SendAs(who, new ActivateRoles(
            [new ActivationItem(eligibility, duration ?? TimeSpan.FromHours(1))], "Routine maintenance", ticket, ticket is null ? null : "ServiceNow",
            role.Mfa ? app.CodeFor(who) : null));
        return result.Items.Single();
    }

    /// <summary>
    /// An active grant of an approval role, made as the approvals issue will make it: a pending request approved by
    /// <paramref name="approver"/>, then the grant, confirmed.
    /// </summary>
    public static async Task<Guid> ApprovedActivationAsync(this TestApp app, DemoAccount who, DemoRole role, DemoAccount approver, TimeSpan duration)
    {
        var now = app.Time.GetUtcNow();
        return await app.Db(async db =>
        {
            var eligibility = await db.Eligibilities.AsNoTracking().SingleAsync(e => e.PrincipalId == who.Id && e.RoleId == role.Id);
            var request = ActivationRequest.AwaitingApproval(Guid.NewGuid(), ActivationRequestKind.Activate, eligibility, who.Id, duration,
                new RequestDetails("Approved change", "CHG1", "ServiceNow"), now, now, 1, TimeSpan.FromHours(24));
            request.Decide(approver.Id, ApprovalVerdict.Approve, null, now);
            var activation = new RoleActivation(Guid.NewGuid(), request, now);
            activation.ConfirmProvisioned(now);
            db.ActivationRequests.Add(request);
            db.Activations.Add(activation);
            await db.SaveChangesAsync();
            return activation.Id;
        });
    }

    /// <summary>Moves the fake clock on, past the step of any code used so far.</summary>
    public static void NextCodeStep(this TestApp app) => app.Time.Advance(TimeSpan.FromSeconds(30));

    public static Task<int> CountAsync<T>(this TestApp app) where T : class =>
        app.Db(db => db.Set<T>().CountAsync());

    public static Task<List<AuditEvent>> AuditAsync(this TestApp app, string? action = null) =>
        app.Db(db => db.AuditEvents.Where(e => action == null || e.Action == action).OrderBy(e => e.Id).ToListAsync());

    public static Task<RoleActivation> ActivationAsync(this TestApp app, Guid id) =>
        app.Db(db => db.Activations.AsNoTracking().SingleAsync(a => a.Id == id));
}
