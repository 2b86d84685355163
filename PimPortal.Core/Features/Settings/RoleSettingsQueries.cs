using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Settings;

/// <summary>
/// Every managed role with the gist of its settings (PIM administrators); with <paramref name="WithCounts"/> also how
/// many are eligible for it and hold it now (a pass over the eligibilities: leave it out where only names are needed).
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator, PortalPermissions.Auditor, PortalPermissions.GovernanceLead)]
public sealed record ListRoleSettings(bool WithCounts = true) : IQuery<IReadOnlyList<RoleSummary>>;

public sealed record RoleSummary(
    Guid RoleId, string RoleName, RoleKind Kind, string Scope, TimeSpan MaxActivationDuration, bool RequireMfa, bool RequireJustification,
    bool RequireTicket, bool RequireApproval, int ApprovalsNeeded, int Eligible, int Active);

/// <summary>One role's settings as the settings form shows them (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetRoleSettings(Guid RoleId) : IQuery<RoleSettingsView>;

/// <summary>A role's settings, with <see cref="Version"/> to send back with a change.</summary>
public sealed record RoleSettingsView(Guid RoleId, string RoleName, RoleKind Kind, string Scope, Guid Version, RoleSettingsInput Settings, IReadOnlyList<PrincipalRef> Approvers);

/// <summary>A user or group as pickers show it.</summary>
public sealed record PrincipalRef(Guid Id, string DisplayName, PrincipalKind Kind, string? UserPrincipalName, bool IsEnabled)
{
    public string Label => Kind == PrincipalKind.Group ? $"{DisplayName} (group)" : UserPrincipalName is null ? DisplayName : $"{DisplayName} ({UserPrincipalName})";
}

/// <summary>
/// Users and groups of the directory whose name or sign-in name contains <paramref name="Text"/> (at most 20), for the
/// approver, eligibility and recipient pickers.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator, PortalPermissions.GovernanceLead, PortalPermissions.Auditor)]
public sealed record SearchPrincipals(string? Text, PrincipalKind? Kind = null) : IQuery<IReadOnlyList<PrincipalRef>>;

public sealed class RoleSettingsQueryHandlers(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time)
    : IQueryHandler<ListRoleSettings, IReadOnlyList<RoleSummary>>,
      IQueryHandler<GetRoleSettings, RoleSettingsView>,
      IQueryHandler<SearchPrincipals, IReadOnlyList<PrincipalRef>>
{
    public async ValueTask<IReadOnlyList<RoleSummary>> Handle(ListRoleSettings query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = query.WithCounts ? await RoleCounts.ReadAsync(db, now, now, cancellationToken) : new Dictionary<Guid, RoleTally>();
        var rows = await db.PrivilegedRoles.AsNoTracking()
            .Select(r => new RoleSummary(
                r.Id, r.DisplayName, r.Kind, r.Scope, r.Settings.MaxActivationDuration, r.Settings.RequireMfa, r.Settings.RequireJustification,
                r.Settings.RequireTicket, r.Settings.RequireApproval, r.Settings.ApprovalsNeeded, 0, 0))
            .ToListAsync(cancellationToken);
        rows = [.. rows.Select(r => r with { Eligible = counts.Of(r.RoleId).Eligible, Active = counts.Of(r.RoleId).Active })];
        return [.. rows.OrderBy(r => r.Kind).ThenBy(r => r.RoleName, StringComparer.Ordinal).ThenBy(r => r.Scope, StringComparer.Ordinal)];
    }

    public async ValueTask<RoleSettingsView> Handle(GetRoleSettings query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var role = await db.PrivilegedRoles.AsNoTracking()
            .Include(r => r.Settings).ThenInclude(s => s.Approvers)
            .Include(r => r.Settings).ThenInclude(s => s.NotificationRules)
            .AsSplitQuery()
            .SingleOrDefaultAsync(r => r.Id == query.RoleId, cancellationToken)
            ?? throw new NotFoundException("That role does not exist.");
        var approvers = await PrincipalsAsync(db, [.. role.Settings.Approvers.Select(a => a.PrincipalId)], cancellationToken);
        return new RoleSettingsView(role.Id, role.DisplayName, role.Kind, role.Scope, role.Settings.Version, RoleSettingsInput.From(role.Settings), approvers);
    }

    public async ValueTask<IReadOnlyList<PrincipalRef>> Handle(SearchPrincipals query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var text = query.Text?.Trim() ?? "";
        var principals = db.Principals.AsNoTracking().Where(p => p.IsEnabled);
        if (query.Kind is { } kind)
        {
            principals = principals.Where(p => p.Kind == kind);
        }

        if (text.Length > 0)
        {
            // Case-insensitive on every engine: compare lower-cased.
            var lower = text.ToLowerInvariant();
            principals = principals.Where(p => p.DisplayName.ToLower().Contains(lower) || (p.UserPrincipalName != null && p.UserPrincipalName.ToLower().Contains(lower)));
        }

        return await principals.OrderBy(p => p.DisplayName).Take(20)
            .Select(p => new PrincipalRef(p.Id, p.DisplayName, p.Kind, p.UserPrincipalName, p.IsEnabled))
            .ToListAsync(cancellationToken);
    }

    internal static async Task<IReadOnlyList<PrincipalRef>> PrincipalsAsync(PimDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToList();
        var found = await db.Principals.AsNoTracking().Where(p => list.Contains(p.Id))
            .Select(p => new PrincipalRef(p.Id, p.DisplayName, p.Kind, p.UserPrincipalName, p.IsEnabled))
            .ToListAsync(cancellationToken);
        return [.. found.OrderBy(p => p.DisplayName, StringComparer.Ordinal)];
    }
}
