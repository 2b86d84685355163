using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Dashboard;

/// <summary>The administrators' overview: what is eligible, active and pending now, activations per day, open alerts.</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record GetDashboard(int Days = 30) : IQuery<DashboardView>;

/// <param name="ActivationsPerDay">One entry per UTC day of the period, oldest first (days without activations count 0).</param>
public sealed record DashboardView(
    int Eligible, int Active, int Pending, int EndingSoon, int OpenAlerts, int HighAlerts, int BreakGlassAccounts,
    IReadOnlyList<DayCount> ActivationsPerDay, IReadOnlyList<RoleCount> ActiveByRole, DateTimeOffset Now);

public sealed record DayCount(DateOnly Day, int Activations, int Approvals);

public sealed record RoleCount(string RoleName, int Active, int Eligible);

public sealed class GetDashboardHandler(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, IOptions<PimOptions> options) : IQueryHandler<GetDashboard, DashboardView>
{
    public async ValueTask<DashboardView> Handle(GetDashboard query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var days = Math.Clamp(query.Days, 1, 366);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var from = new DateTimeOffset(today.AddDays(1 - days).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var soon = now + options.Value.Alerts.EligibilityNotice;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = await Settings.RoleCounts.ReadAsync(db, now, soon, cancellationToken);
        var eligible = counts.Values.Sum(c => c.Eligible);
        var endingSoon = counts.Values.Sum(c => c.EndingSoon);
        var active = counts.Values.Sum(c => c.Active);
        var pending = await db.ActivationRequests.AsNoTracking().CountAsync(r => r.Status == ActivationRequestStatus.Pending, cancellationToken);
        var alerts = await db.Alerts.AsNoTracking().Where(a => a.ResolvedAt == null).GroupBy(a => a.Severity).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var drift = await db.DriftFindings.AsNoTracking().CountAsync(f => f.ResolvedAt == null, cancellationToken);
        var breakGlass = await db.Principals.AsNoTracking().CountAsync(p => p.IsBreakGlass, cancellationToken);

        // Per UTC day: activations granted (not administrators' assignments) and requests approved.
        var granted = await db.Activations.AsNoTracking().Where(a => a.CreatedAt >= from && a.AssignedBy == null).Select(a => a.CreatedAt).ToListAsync(cancellationToken);
        var approved = await db.ActivationRequests.AsNoTracking().Where(r => r.CreatedAt >= from && r.ApprovalsNeeded > 0
                && (r.Status == ActivationRequestStatus.Approved || r.Status == ActivationRequestStatus.Scheduled))
            .Select(r => r.CreatedAt).ToListAsync(cancellationToken);
        var grantedOn = granted.CountBy(t => DateOnly.FromDateTime(t.UtcDateTime)).ToDictionary();
        var approvedOn = approved.CountBy(t => DateOnly.FromDateTime(t.UtcDateTime)).ToDictionary();
        var perDay = Enumerable.Range(0, days).Select(i => today.AddDays(i + 1 - days))
            .Select(day => new DayCount(day, grantedOn.GetValueOrDefault(day), approvedOn.GetValueOrDefault(day))).ToList();

        var byRole = (await db.PrivilegedRoles.AsNoTracking().Select(r => new { r.Id, r.DisplayName }).ToListAsync(cancellationToken))
            .Select(r => new RoleCount(r.DisplayName, Settings.RoleCounts.Of(counts, r.Id).Active, Settings.RoleCounts.Of(counts, r.Id).Eligible))
            .ToList();

        return new DashboardView(
            eligible, active, pending, endingSoon, alerts.Sum(a => a.Count) + drift,
            alerts.Where(a => a.Key == AlertSeverity.High).Sum(a => a.Count) + drift, breakGlass, perDay,
            [.. byRole.OrderByDescending(r => r.Active).ThenByDescending(r => r.Eligible).ThenBy(r => r.RoleName, StringComparer.Ordinal)], now);
    }
}
