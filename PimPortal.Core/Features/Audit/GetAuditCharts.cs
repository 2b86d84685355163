using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

/// <summary>
/// The auditors' charts over [<paramref name="From"/>, <paramref name="To"/>) (default: the 30 days up to the end of today): activations
/// per day by role, the most frequent activators, and how long approvals took (median and p95).
/// </summary>
[RequirePermission(PortalPermissions.Auditor, PortalPermissions.PimAdministrator)]
public sealed record GetAuditCharts(DateTimeOffset? From = null, DateTimeOffset? To = null) : IQuery<AuditCharts>;

/// <param name="Days">The UTC days of the period, oldest first.</param>
/// <param name="PerRole">For each role with activations, its count on each of <paramref name="Days"/>.</param>
public sealed record AuditCharts(
    IReadOnlyList<DateOnly> Days, IReadOnlyList<RoleSeries> PerRole, IReadOnlyList<Activator> TopActivators, ApprovalLatency Latency);

public sealed record RoleSeries(string RoleName, IReadOnlyList<int> Counts)
{
    public int Total => Counts.Sum();
}

public sealed record Activator(string Name, int Activations);

/// <summary>Time from request to decision of the requests that needed approval and were decided in the period.</summary>
public sealed record ApprovalLatency(int Decided, TimeSpan? Median, TimeSpan? P95);

public sealed class GetAuditChartsHandler(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time) : IQueryHandler<GetAuditCharts, AuditCharts>
{
    /// <summary>The longest period charted (a year of days).</summary>
    public const int MaxDays = 366;

    public async ValueTask<AuditCharts> Handle(GetAuditCharts query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // By default up to the end of today (UTC), so today's activations count.
        var to = (query.To ?? new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero)).ToUniversalTime();
        var from = (query.From ?? to.AddDays(-30)).ToUniversalTime();
        if (from >= to)
        {
            throw new DomainRuleException("The period must end after it starts.");
        }

        if ((to - from).TotalDays > MaxDays)
        {
            throw new DomainRuleException($"Chart at most {MaxDays} days at once.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var activations = await db.Activations.AsNoTracking()
            .Where(a => a.CreatedAt >= from && a.CreatedAt < to && a.AssignedBy == null)
            .Select(a => new { a.CreatedAt, a.RoleId, a.PrincipalId })
            .ToListAsync(cancellationToken);
        var roleNames = await db.PrivilegedRoles.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);

        var firstDay = DateOnly.FromDateTime(from.UtcDateTime);
        var lastDay = DateOnly.FromDateTime(to.AddTicks(-1).UtcDateTime);
        var days = Enumerable.Range(0, lastDay.DayNumber - firstDay.DayNumber + 1).Select(firstDay.AddDays).ToList();
        var perRole = activations.GroupBy(a => a.RoleId)
            .Select(g =>
            {
                var byDay = g.CountBy(a => DateOnly.FromDateTime(a.CreatedAt.UtcDateTime)).ToDictionary();
                return new RoleSeries(roleNames.GetValueOrDefault(g.Key, "Unknown role"), [.. days.Select(d => byDay.GetValueOrDefault(d))]);
            })
            .OrderByDescending(s => s.Total).ThenBy(s => s.RoleName, StringComparer.Ordinal)
            .ToList();

        var top = activations.CountBy(a => a.PrincipalId).OrderByDescending(p => p.Value).Take(10).ToList();
        var topIds = top.Select(t => t.Key).ToList();
        var names = await db.Principals.AsNoTracking().Where(p => topIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);

        var decided = await db.ActivationRequests.AsNoTracking()
            .Where(r => r.ApprovalsNeeded > 0 && r.DecidedAt != null && r.DecidedAt >= from && r.DecidedAt < to
                && (r.Status == ActivationRequestStatus.Approved || r.Status == ActivationRequestStatus.Scheduled || r.Status == ActivationRequestStatus.Denied))
            .Select(r => new { r.CreatedAt, DecidedAt = r.DecidedAt!.Value })
            .ToListAsync(cancellationToken);
        var latencies = decided.Select(d => d.DecidedAt - d.CreatedAt).Order().ToList();

        return new AuditCharts(
            days,
            perRole,
            [.. top.Select(t => new Activator(names.GetValueOrDefault(t.Key, t.Key.ToString()), t.Value)).OrderByDescending(a => a.Activations).ThenBy(a => a.Name, StringComparer.Ordinal)],
            new ApprovalLatency(latencies.Count, Percentile(latencies, 50), Percentile(latencies, 95)));
    }

    /// <summary>The nearest-rank percentile, or null for none.</summary>
    internal static TimeSpan? Percentile(IReadOnlyList<TimeSpan> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
}
