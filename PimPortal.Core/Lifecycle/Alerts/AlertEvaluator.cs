using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle.Alerts;

/// <summary>
/// Evaluates the alerts for PIM administrators against the thresholds of <see cref="AlertOptions"/>: raises each
/// condition newly seen (audited), keeps the figures of those still seen, and resolves those no longer seen (audited).
/// "Assigned outside the portal" is the drift scan's; break-glass use is raised at once by <see cref="BreakGlassAlarm"/>.
/// </summary>
public sealed partial class AlertEvaluator(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, TimeProvider time, IOptions<PimOptions> options, Announcer announcer, ILogger<AlertEvaluator> logger)
{
    private static readonly AlertKind[] Evaluated =
        [AlertKind.TooManyGlobalAdministrators, AlertKind.RoleWithoutMfa, AlertKind.StaleEligibility, AlertKind.FrequentActivation, AlertKind.PermanentAssignmentNotAllowed,
         AlertKind.UndecidableRequest];

    /// <summary>Evaluates once; returns how many evaluated alerts are open afterwards.</summary>
    public async Task<int> EvaluateAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        var settings = options.Value.Alerts;
        var now = time.GetUtcNow();
        var holders = await gateway.ListHoldersAsync(cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var seen = new List<Alert>();
        seen.AddRange(await GlobalAdministratorsAsync(db, holders, settings, now, cancellationToken));
        if (settings.RolesWithoutMfa)
        {
            seen.AddRange(await RolesWithoutMfaAsync(db, now, cancellationToken));
        }

        seen.AddRange(await StaleEligibilitiesAsync(db, settings, now, cancellationToken));
        seen.AddRange(await FrequentActivationsAsync(db, settings, now, cancellationToken));
        seen.AddRange(await PermanentNotAllowedAsync(db, now, cancellationToken));
        seen.AddRange(await UndecidableRequestsAsync(db, now, cancellationToken));

        var open = await db.Alerts.Where(a => a.ResolvedAt == null && Evaluated.Contains(a.Kind)).ToListAsync(cancellationToken);
        var openByKey = open.ToDictionary(a => a.Key, StringComparer.Ordinal);
        var seenKeys = seen.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var work = LifecycleContext.System(db, now);
        foreach (var alert in seen)
        {
            if (openByKey.TryGetValue(alert.Key, out var known))
            {
                known.SeenAgain(alert.Summary, alert.Detail, now);
                continue;
            }

            AlertRaising.Raise(work, alert);
            LogRaised(logger, alert.Kind, alert.Summary);
        }

        foreach (var gone in open.Where(a => !seenKeys.Contains(a.Key)))
        {
            AlertRaising.Resolve(work, gone, "the condition no longer holds");
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex) || ex is DbUpdateConcurrencyException)
        {
            // Another instance evaluated at the same moment and wrote first; its result stands.
            LogRaced(logger, ex);
            return await db.Alerts.CountAsync(a => a.ResolvedAt == null && Evaluated.Contains(a.Kind), cancellationToken);
        }

        announcer.Announce(work.Announce);
        return seen.Count;
    }

    private static async Task<IEnumerable<Alert>> GlobalAdministratorsAsync(
        PimDbContext db, IReadOnlyList<DirectoryHolder> holders, AlertOptions settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var globalAdmin = await db.PrivilegedRoles.AsNoTracking()
            .Where(r => r.Kind == RoleKind.DirectoryRole && r.ExternalId == Policy.ProtectedRoles.GlobalAdministratorTemplateId)
            .Select(r => (Guid?)r.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (globalAdmin is not { } gaId)
        {
            return [];
        }

        // Who holds (in the directory) or may activate (eligible, a group as its members) each role.
        var eligible = await db.Eligibilities.AsNoTracking()
            .Where(RoleEligibility.Current.At(now))
            .Select(e => new { e.RoleId, e.PrincipalId })
            .ToListAsync(cancellationToken);
        var members = await db.GroupMemberships.AsNoTracking().ToListAsync(cancellationToken);
        IEnumerable<Guid> Expand(Guid id)
        {
            var ofGroup = members.Where(m => m.GroupId == id).Select(m => m.MemberId).ToList();
            return ofGroup.Count > 0 ? ofGroup : [id];
        }

        var privileged = eligible.SelectMany(e => Expand(e.PrincipalId)).Concat(holders.Select(h => h.PrincipalId)).ToHashSet();
        var admins = eligible.Where(e => e.RoleId == gaId).SelectMany(e => Expand(e.PrincipalId))
            .Concat(holders.Where(h => h.RoleId == gaId).Select(h => h.PrincipalId))
            .ToHashSet();
        var share = privileged.Count == 0 ? 0 : (double)admins.Count / privileged.Count;
        if (admins.Count <= settings.GlobalAdministratorCount || share <= settings.GlobalAdministratorShare)
        {
            return [];
        }

        return [new Alert(Guid.NewGuid(), AlertKind.TooManyGlobalAdministrators, "too-many-global-administrators", AlertSeverity.High,
            $"{admins.Count} principals hold or may activate Global Administrator",
            $"{admins.Count} of {privileged.Count} privileged principals ({share:P0}) hold or may activate Global Administrator; the thresholds are {settings.GlobalAdministratorCount} and {settings.GlobalAdministratorShare:P0}. Give most of them a less privileged role.",
            null, gaId, null, now)];
    }

    private static async Task<IEnumerable<Alert>> RolesWithoutMfaAsync(PimDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var roles = await db.PrivilegedRoles.AsNoTracking().Where(r => !r.Settings.RequireMfa)
            .Select(r => new { r.Id, r.DisplayName, r.Scope }).ToListAsync(cancellationToken);
        return roles.Select(r => new Alert(Guid.NewGuid(), AlertKind.RoleWithoutMfa, $"no-mfa:{r.Id}", AlertSeverity.Medium,
            $"{r.DisplayName} can be activated without MFA",
            $"Activating {r.DisplayName}{ScopeText(r.Scope)} does not ask for a fresh multi-factor proof, so a stolen session can use it. Require MFA on activation.",
            null, r.Id, null, now));
    }

    /// <summary>
    /// One alert per role: its eligible users (not break-glass, enabled, eligible for longer than the threshold) who
    /// have not activated it within the threshold. Read in two set queries and matched in memory, so a large tenant
    /// (100,000 eligibilities) takes a moment, not a query per eligibility.
    /// </summary>
    private static async Task<IEnumerable<Alert>> StaleEligibilitiesAsync(PimDbContext db, AlertOptions settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = now.AddDays(-settings.StaleAfterDays);
        var candidates = await (
                from e in db.Eligibilities.AsNoTracking().Where(RoleEligibility.Current.At(now))
                where e.CreatedAt <= since && e.NotBefore <= since
                join p in db.Principals on e.PrincipalId equals p.Id
                where p.Kind == PrincipalKind.User && !p.IsBreakGlass && p.IsEnabled
                select new { e.PrincipalId, e.RoleId, e.Scope, p.DisplayName })
            .ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }

        // The last activation of each (principal, role, scope), over the activations that exist (far fewer rows).
        var last = (await db.Activations.AsNoTracking()
                .Where(a => a.AssignedBy == null)
                .GroupBy(a => new { a.PrincipalId, a.RoleId, a.Scope })
                .Select(g => new { g.Key.PrincipalId, g.Key.RoleId, g.Key.Scope, Last = g.Max(a => a.CreatedAt) })
                .ToListAsync(cancellationToken))
            .ToDictionary(a => (a.PrincipalId, a.RoleId, a.Scope), a => a.Last);
        var roles = await db.PrivilegedRoles.AsNoTracking().ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);
        return candidates
            .Select(c => (c.RoleId, c.DisplayName, Last: last.TryGetValue((c.PrincipalId, c.RoleId, c.Scope), out var at) ? at : (DateTimeOffset?)null))
            .Where(c => c.Last is null || c.Last <= since)
            .GroupBy(c => c.RoleId)
            .Select(g =>
            {
                var role = roles.GetValueOrDefault(g.Key, "a role");
                var examples = g.OrderBy(c => c.Last ?? DateTimeOffset.MinValue).ThenBy(c => c.DisplayName, StringComparer.Ordinal).Take(10)
                    .Select(c => c.Last is { } at ? $"{c.DisplayName} (last {at:yyyy-MM-dd})" : $"{c.DisplayName} (never)");
                var count = g.Count();
                var who = count == 1 ? g.First().DisplayName : $"{count} eligible users";
                return new Alert(Guid.NewGuid(), AlertKind.StaleEligibility, $"stale:{g.Key}", AlertSeverity.Low,
                    $"{who} {(count == 1 ? "has" : "have")} not activated {role} in {settings.StaleAfterDays} days",
                    $"Eligible but not activating: {string.Join(", ", examples)}{(count > 10 ? $" and {count - 10} more" : "")}. Remove the eligibilities nobody needs (an access review removes many at once).",
                    null, g.Key, null, now);
            })
            .ToList();
    }

    private static async Task<IEnumerable<Alert>> FrequentActivationsAsync(PimDbContext db, AlertOptions settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var since = now - settings.FrequentActivationWindow;
        var frequent = await db.Activations.AsNoTracking()
            .Where(a => a.CreatedAt > since && a.AssignedBy == null)
            .GroupBy(a => new { a.PrincipalId, a.RoleId })
            .Select(g => new { g.Key.PrincipalId, g.Key.RoleId, Count = g.Count() })
            .Where(g => g.Count > settings.FrequentActivationCount)
            .ToListAsync(cancellationToken);
        if (frequent.Count == 0)
        {
            return [];
        }

        var principalIds = frequent.Select(f => f.PrincipalId).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => principalIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        var roleIds = frequent.Select(f => f.RoleId).Distinct().ToList();
        var roles = await db.PrivilegedRoles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);
        var window = Policy.ActivationPolicy.Format(settings.FrequentActivationWindow);
        return frequent.Select(f => new Alert(Guid.NewGuid(), AlertKind.FrequentActivation, $"frequent:{f.PrincipalId}:{f.RoleId}", AlertSeverity.Low,
            $"{names.GetValueOrDefault(f.PrincipalId, "Someone")} activated {roles[f.RoleId]} {f.Count} times in {window}",
            $"{f.Count} activations within {window} (the threshold is {settings.FrequentActivationCount}). The maximum duration may be too short for the work, or the role is used as standing access; review the role's settings.",
            f.PrincipalId, f.RoleId, null, now));
    }

    private static async Task<IEnumerable<Alert>> PermanentNotAllowedAsync(PimDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Permanent assignments are allowed by the role's rules, or for a break-glass account; a rule tightened since,
        // or a mark taken away, leaves them standing — each is named until removed.
        var standing = await (
                from a in db.Activations.AsNoTracking().Where(RoleActivation.Open)
                where a.AssignedBy != null && a.NotAfter == RoleActivation.PermanentEnd
                    && !a.Role.Settings.AllowPermanentActiveAssignment
                join p in db.Principals on a.PrincipalId equals p.Id
                where !p.IsBreakGlass
                select new { a.Id, a.PrincipalId, a.RoleId, p.DisplayName, Role = a.Role.DisplayName })
            .ToListAsync(cancellationToken);
        return standing.Select(s => new Alert(Guid.NewGuid(), AlertKind.PermanentAssignmentNotAllowed, $"permanent:{s.Id}", AlertSeverity.High,
            $"{s.DisplayName} holds {s.Role} permanently, which the role no longer allows",
            $"{s.DisplayName} was assigned {s.Role} active without an end, but the role's settings no longer allow permanent active assignments (or the account is no longer break-glass). Remove the assignment, or make it time-bound.",
            s.PrincipalId, s.RoleId, s.Id, now));
    }

    /// <summary>
    /// A waiting request that cannot reach its approvals: fewer enabled approvers remain (not the requester, not those
    /// who approved it already) than approvals it still needs — all disabled, taken off the list, or only the requester
    /// through a group. Without the alert it would wait silently until it lapses.
    /// </summary>
    private static async Task<IEnumerable<Alert>> UndecidableRequestsAsync(PimDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var pending = await db.ActivationRequests.AsNoTracking()
            .Where(r => r.Status == ActivationRequestStatus.Pending && r.ExpiresAt > now)
            .Select(r => new { r.Id, r.RoleId, r.RequesterId, r.ApprovalsNeeded, r.CreatedAt, Role = r.Role.DisplayName, r.Scope })
            .ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return [];
        }

        var requestIds = pending.Select(r => r.Id).ToList();
        var approvedBy = (await db.ApprovalDecisions.AsNoTracking()
                .Where(d => requestIds.Contains(d.RequestId) && d.Verdict == ApprovalVerdict.Approve)
                .Select(d => new { d.RequestId, d.ApproverId })
                .ToListAsync(cancellationToken))
            .ToLookup(d => d.RequestId, d => d.ApproverId);
        var approvers = new Dictionary<Guid, HashSet<Guid>>();
        foreach (var roleId in pending.Select(r => r.RoleId).Distinct())
        {
            approvers[roleId] = [.. await Approvers.UsersOf(db, roleId).Select(p => p.Id).ToListAsync(cancellationToken)];
        }

        var stuck = pending
            .Select(r =>
            {
                var given = approvedBy[r.Id].Distinct().ToList();
                var left = approvers[r.RoleId].Count(id => id != r.RequesterId && !given.Contains(id));
                return (Request: r, Missing: r.ApprovalsNeeded - given.Count, Left: left);
            })
            .Where(s => s.Left < s.Missing)
            .ToList();
        if (stuck.Count == 0)
        {
            return [];
        }

        var requesterIds = stuck.Select(s => s.Request.RequesterId).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => requesterIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        return stuck.Select(s =>
        {
            var who = names.GetValueOrDefault(s.Request.RequesterId, "Someone");
            var approvals = s.Missing == 1 ? "1 more approval" : $"{s.Missing} more approvals";
            var left = s.Left switch { 0 => "no approver is left who may give it", 1 => "only 1 approver is left", _ => $"only {s.Left} approvers are left" };
            return new Alert(Guid.NewGuid(), AlertKind.UndecidableRequest, $"undecidable:{s.Request.Id}", AlertSeverity.High,
                $"{who}'s request for {s.Request.Role} cannot be decided",
                $"The request of {s.Request.CreatedAt:yyyy-MM-dd HH:mm} UTC for {s.Request.Role}{ScopeText(s.Request.Scope)} needs {approvals}, but {left}: its approvers are disabled, removed, or the requester. Add an approver in the role's settings, or the request lapses undecided.",
                s.Request.RequesterId, s.Request.RoleId, s.Request.Id, now);
        });
    }

    /// <summary>" on {scope}" for a resource scope; nothing for the whole directory ("/") or a group.</summary>
    private static string ScopeText(string scope) => scope.StartsWith('/') && scope.Length > 1 ? $" on {scope}" : "";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert raised ({Kind}): {Summary}")]
    private static partial void LogRaised(ILogger logger, AlertKind kind, string summary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another instance evaluated the alerts at the same moment")]
    private static partial void LogRaced(ILogger logger, Exception exception);
}
