using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>Shortcuts for the administration suites: erin is the demo's PIM administrator.</summary>
public static class AdminArrange
{
    public static Task<RoleSettingsView> SettingsAsync(this TestApp app, DemoRole role) =>
        app.QueryAs(DemoOrganisation.Erin, new GetRoleSettings(role.Id));

    /// <summary>
    /// Erin changes <paramref name="role"/>'s settings as the form would: reads them, changes some, saves — with her
    /// authenticator's code when the role is protected (one change of a protected role per 30-second step).
    /// </summary>
    public static async Task<Guid> UpdateSettingsAsync(this TestApp app, DemoRole role, Func<RoleSettingsInput, RoleSettingsInput> change)
    {
        var current = await app.SettingsAsync(role);
        return await app.SendAs(DemoOrganisation.Erin, new UpdateRoleSettings(role.Id, current.Version, change(current.Settings),
            current.IsProtected ? app.CodeFor(DemoOrganisation.Erin) : null));
    }

    /// <summary>Makes <paramref name="who"/> a PIM administrator too (the demo has only erin).</summary>
    public static Task MakePimAdministratorAsync(this TestApp app, Guid who) => app.ChangeAsync(async db =>
    {
        var role = await db.Roles.SingleAsync(r => r.Name == Core.PortalPermissions.PimAdministrator);
        db.UserRoles.Add(new Microsoft.AspNetCore.Identity.IdentityUserRole<Guid> { UserId = who, RoleId = role.Id });
    });

    /// <summary>The rule of <paramref name="roleEvent"/> replaced in <paramref name="settings"/>.</summary>
    public static RoleSettingsInput WithRule(this RoleSettingsInput settings, NotificationRuleInput rule) =>
        settings with { Notifications = [.. settings.Notifications.Where(n => n.Event != rule.Event), rule] };

    /// <summary>Adds a standing assignment to the embedded directory, as someone working outside the portal would.</summary>
    public static Task StandingAsync(this TestApp app, DemoAccount who, DemoRole role) =>
        app.Db(async db =>
        {
            db.DirectoryAssignments.Add(new DirectoryAssignment(Guid.NewGuid(), who.Id, role.Id, role.Scope, null, app.Time.GetUtcNow(), null));
            await db.SaveChangesAsync();
        });

    public static Task<List<RoleEligibility>> EligibilitiesAsync(this TestApp app, Guid principalId, DemoRole role) =>
        app.Db(db => db.Eligibilities.AsNoTracking().Where(e => e.PrincipalId == principalId && e.RoleId == role.Id).OrderBy(e => e.CreatedAt).ToListAsync());
}
