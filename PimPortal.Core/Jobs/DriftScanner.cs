using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Reads who holds the managed roles in the directory and keeps the "assigned outside the portal" alerts: a standing
/// holder (not from an activation of the portal, not a break-glass account) opens a finding the first time it is seen,
/// and the finding is resolved once the assignment is gone. Each opening and resolution is audited.
/// </summary>
public sealed partial class DriftScanner(IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, TimeProvider time, ILogger<DriftScanner> logger)
{
    /// <summary>Scans once; returns how many findings are open afterwards.</summary>
    public async Task<int> ScanAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        var holders = await gateway.ListHoldersAsync(cancellationToken);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var breakGlass = await db.Principals.AsNoTracking().Where(p => p.IsBreakGlass).Select(p => p.Id).ToListAsync(cancellationToken);
        var outside = holders.Where(h => h.IsStanding && !breakGlass.Contains(h.PrincipalId))
            .DistinctBy(h => (h.PrincipalId, h.RoleId, h.Scope))
            .ToList();
        var open = await db.DriftFindings.Where(f => f.ResolvedAt == null).ToListAsync(cancellationToken);

        foreach (var holder in outside)
        {
            if (open.Find(f => f.PrincipalId == holder.PrincipalId && f.RoleId == holder.RoleId && f.Scope == holder.Scope) is { } known)
            {
                known.SeenAgain(now);
                continue;
            }

            var finding = new DriftFinding(Guid.NewGuid(), holder.PrincipalId, holder.RoleId, holder.Scope, now);
            db.Add(finding);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.DriftDetected, "drift", finding.Id.ToString(), AuditOutcome.Success,
                new { holder = holder.PrincipalName, role = holder.RoleName, scope = holder.Scope, alert = "assigned outside the portal" }, holder.PrincipalId, holder.RoleId));
            LogDetected(logger, holder.PrincipalName, holder.RoleName);
        }

        foreach (var gone in open.Where(f => !outside.Exists(h => h.PrincipalId == f.PrincipalId && h.RoleId == f.RoleId && h.Scope == f.Scope)))
        {
            gone.Resolve(now);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.DriftResolved, "drift", gone.Id.ToString(), AuditOutcome.Success,
                new { reason = "the assignment is gone from the directory" }, gone.PrincipalId, gone.RoleId));
        }

        await db.SaveChangesAsync(cancellationToken);
        return await db.DriftFindings.CountAsync(f => f.ResolvedAt == null, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Assigned outside the portal: {Holder} holds {Role}")]
    private static partial void LogDetected(ILogger logger, string holder, string role);
}
