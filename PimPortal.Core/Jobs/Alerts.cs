using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Evaluates the alerts for PIM administrators against the thresholds of <see cref="AlertOptions"/>: raises each
/// condition newly seen (audited), keeps the figures of those still seen, and resolves those no longer seen (audited).
/// "Assigned outside the portal" is the drift scan's; break-glass use is raised at once by <see cref="BreakGlassAlarm"/>.
/// </summary>
public sealed partial class AlertEvaluator(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, TimeProvider time, IOptions<PimOptions> options, PortalEvents events, ILogger<AlertEvaluator> logger)
{
    /// <summary>The Entra role template id of Global Administrator.</summary>
    public const string GlobalAdministratorTemplateId = "62e90394-69f5-4237-9190-012177145e10";

    private static readonly AlertKind[] Evaluated =
        [AlertKind.TooManyGlobalAdministrators, AlertKind.RoleWithoutMfa, AlertKind.StaleEligibility, AlertKind.FrequentActivation, AlertKind.PermanentAssignmentNotAllowed];

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

        var open = await db.Alerts.Where(a => a.ResolvedAt == null && Evaluated.Contains(a.Kind)).ToListAsync(cancellationToken);
        var openByKey = open.ToDictionary(a => a.Key, StringComparer.Ordinal);
        var seenKeys = seen.Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var changed = false;
        foreach (var alert in seen)
        {
            if (openByKey.TryGetValue(alert.Key, out var known))
            {
                known.SeenAgain(alert.Summary, alert.Detail, now);
                continue;
            }

            db.Alerts.Add(alert);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.AlertRaised, "alert", alert.Id.ToString(), AuditOutcome.Success,
                new { kind = alert.Kind.ToString(), alert.Summary, alert.Detail }, alert.PrincipalId, alert.RoleId));
            LogRaised(logger, alert.Kind, alert.Summary);
            changed = true;
        }

        foreach (var gone in open.Where(a => !seenKeys.Contains(a.Key)))
        {
            gone.Resolve("the condition no longer holds", null, now);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.AlertResolved, "alert", gone.Id.ToString(), AuditOutcome.Success,
                new { kind = gone.Kind.ToString(), gone.Summary, reason = gone.Resolution }, gone.PrincipalId, gone.RoleId));
            changed = true;
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

        if (changed)
        {
            events.AlertsChanged();
        }

        return seen.Count;
    }

    private static async Task<IEnumerable<Alert>> GlobalAdministratorsAsync(
        PimDbContext db, IReadOnlyList<DirectoryHolder> holders, AlertOptions settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var globalAdmin = await db.PrivilegedRoles.AsNoTracking()
            .Where(r => r.Kind == RoleKind.DirectoryRole && r.ExternalId == GlobalAdministratorTemplateId)
            .Select(r => (Guid?)r.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (globalAdmin is not { } gaId)
        {
            return [];
        }

        // Who holds (in the directory) or may activate (eligible, a group as its members) each role.
        var eligible = await db.Eligibilities.AsNoTracking()
            .Where(e => e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now))
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
                from e in db.Eligibilities.AsNoTracking()
                where e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now) && e.CreatedAt <= since && e.NotBefore <= since
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
                from a in db.Activations.AsNoTracking()
                where a.AssignedBy != null && a.NotAfter == RoleActivation.PermanentEnd
                    && (a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active)
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

    /// <summary>" on {scope}" for a resource scope; nothing for the whole directory ("/") or a group.</summary>
    private static string ScopeText(string scope) => scope.StartsWith('/') && scope.Length > 1 ? $" on {scope}" : "";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert raised ({Kind}): {Summary}")]
    private static partial void LogRaised(ILogger logger, AlertKind kind, string summary);

    [LoggerMessage(Level = LogLevel.Information, Message = "Another instance evaluated the alerts at the same moment")]
    private static partial void LogRaced(ILogger logger, Exception exception);
}

/// <summary>
/// Raises "break-glass account used" the moment one signs in or acts in the portal, and tells every PIM administrator
/// (once per open alert; later uses are counted on it until an administrator acknowledges it).
/// </summary>
public sealed partial class BreakGlassAlarm(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Notifier notifier, JobSignals signals, PortalEvents events, ILogger<BreakGlassAlarm> logger)
{
    /// <summary>Records a use of <paramref name="principalId"/> if it is a break-glass account; returns whether it was one.</summary>
    public async Task<bool> RecordUseAsync(Guid principalId, string what, ClientInfo client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RecordOnceAsync(principalId, what, client, cancellationToken);
            }
            catch (DbUpdateException ex) when (attempt < 3 && (DbErrors.IsUniqueViolation(ex) || ex is DbUpdateConcurrencyException))
            {
                // Two uses at the same moment: the other raised it; count this one on it.
            }
        }
    }

    private async Task<bool> RecordOnceAsync(Guid principalId, string what, ClientInfo client, CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var told = await StageAsync(db, principalId, what, client, time.GetUtcNow(), cancellationToken);
        if (told is null)
        {
            return false;
        }

        await db.SaveChangesAsync(cancellationToken);
        Announce(told);
        return true;
    }

    /// <summary>After commit: mail goes, bells and alert lists re-read.</summary>
    internal void Announce(IReadOnlyList<Guid> told)
    {
        signals.Mail.Set();
        events.NotificationsChanged(told);
        events.AlertsChanged();
    }

    /// <summary>
    /// Writes the alert of one use into <paramref name="db"/>'s unit of work (raised, or counted on the open one) with
    /// the administrators' notifications; returns who was told, or null when the account is not break-glass.
    /// </summary>
    internal async Task<IReadOnlyList<Guid>?> StageAsync(PimDbContext db, Guid principalId, string what, ClientInfo client, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var account = await db.Principals.AsNoTracking().Where(p => p.Id == principalId && p.IsBreakGlass).Select(p => new { p.Id, p.DisplayName, p.UserPrincipalName })
            .SingleOrDefaultAsync(cancellationToken);
        if (account is null)
        {
            return null;
        }

        var key = $"break-glass:{account.Id}";
        var summary = $"Break-glass account {account.DisplayName} was used";
        var detail = $"{account.DisplayName} ({account.UserPrincipalName}): {what} at {now:u} from {client.Address ?? "an unknown address"}. " +
            "Emergency access accounts are for outages only: confirm with whoever used it why, and change its credentials afterwards.";
        // The unit of work may hold it already (several uses staged together), before the database does.
        var open = db.Alerts.Local.FirstOrDefault(a => a.Key == key && a.ResolvedAt == null)
            ?? await db.Alerts.SingleOrDefaultAsync(a => a.Key == key && a.ResolvedAt == null, cancellationToken);
        IReadOnlyList<Guid> told = [];
        if (open is null)
        {
            var alert = new Alert(Guid.NewGuid(), AlertKind.BreakGlassUsed, key, AlertSeverity.High, summary, detail, account.Id, null, null, now);
            db.Alerts.Add(alert);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, client, now, AuditActions.AlertRaised, "alert", alert.Id.ToString(), AuditOutcome.Success,
                new { kind = alert.Kind.ToString(), alert.Summary, alert.Detail }, account.Id));
            told = await notifier.AdministratorsAsync(db, NotificationKind.Alert, summary, detail, "/alerts", cancellationToken);
        }
        else
        {
            open.SeenAgain(open.Summary, detail, now, countOccurrence: true);
        }

        LogUsed(logger, account.DisplayName, what);
        return told;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Break-glass account {Account} used: {What}")]
    private static partial void LogUsed(ILogger logger, string account, string what);
}

/// <summary>
/// Tells each eligible principal (a group: its members) once when its eligibility ends within the notice period,
/// and records (audits) each eligibility's end when it has passed. Activations made from an ended eligibility are
/// revoked by the expiry worker.
/// </summary>
public sealed class EligibilityNotices(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, IOptions<PimOptions> options, Notifier notifier, JobSignals signals, PortalEvents events)
{
    /// <summary>Ends older than this when found are recorded together, in one audit event.</summary>
    public static readonly TimeSpan BacklogAge = TimeSpan.FromDays(7);

    /// <summary>One pass; returns how many notices were sent and ends recorded.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        var now = time.GetUtcNow();
        var noticeFrom = now + options.Value.Alerts.EligibilityNotice;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ending = await db.Eligibilities.Include(e => e.Role)
            .Where(e => e.RemovedAt == null && e.NotAfter != null && e.NotAfter > now && e.NotAfter <= noticeFrom && e.EndingNoticeSentAt == null)
            .OrderBy(e => e.NotAfter)
            .Take(500)
            .ToListAsync(cancellationToken);
        var told = new List<Guid>();
        foreach (var eligibility in ending)
        {
            eligibility.NoticeSent(now);
            var recipients = await db.Principals.AsNoTracking().Where(p => p.Id == eligibility.PrincipalId && p.Kind == PrincipalKind.User && p.IsEnabled).Select(p => p.Id)
                .Concat(db.GroupMemberships.Where(m => m.GroupId == eligibility.PrincipalId).Select(m => m.MemberId))
                .ToListAsync(cancellationToken);
            foreach (var recipient in recipients)
            {
                await notifier.NotifyAsync(db, recipient, NotificationKind.EligibilityEnding, $"Your eligibility for {eligibility.Role.DisplayName} ends {eligibility.NotAfter:yyyy-MM-dd}",
                    $"Your eligibility for {eligibility.Role.DisplayName} ({eligibility.Scope}) ends at {eligibility.NotAfter:u}. Ask a PIM administrator to extend it if you still need it.",
                    "/", cancellationToken);
                told.Add(recipient);
            }

            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.EligibilityEndingNotice, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                new { role = eligibility.Role.DisplayName, notAfter = eligibility.NotAfter, told = recipients.Count }, eligibility.PrincipalId, eligibility.RoleId));
        }

        var ended = await db.Eligibilities.Include(e => e.Role)
            .Where(e => e.RemovedAt == null && e.NotAfter != null && e.NotAfter <= now && e.EndRecordedAt == null)
            .OrderBy(e => e.NotAfter)
            .Take(500)
            .ToListAsync(cancellationToken);
        // Each end is recorded with its own event; ends found long after the fact (a database from before ends were
        // recorded, a portal stopped for weeks) are recorded together in one event, not as a flood.
        var backlogBefore = now - BacklogAge;
        foreach (var eligibility in ended)
        {
            eligibility.EndRecorded(now);
            if (eligibility.NotAfter > backlogBefore)
            {
                db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.EligibilityEnded, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                    new { role = eligibility.Role.DisplayName, notAfter = eligibility.NotAfter }, eligibility.PrincipalId, eligibility.RoleId));
            }
        }

        var backlog = ended.Where(e => e.NotAfter <= backlogBefore).ToList();
        if (backlog.Count > 0)
        {
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.EligibilityEnded, "eligibility", "backlog", AuditOutcome.Success,
                new { count = backlog.Count, endedBefore = backlogBefore, eligibilities = backlog.Select(e => e.Id) }));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another instance did this pass at the same moment.
            return 0;
        }

        if (ending.Count + ended.Count > 0)
        {
            signals.Mail.Set();
            signals.Expiry.Set();
            events.NotificationsChanged(told);
            events.RolesChanged(ended.Select(e => e.PrincipalId));
        }

        return ending.Count + ended.Count;
    }
}

/// <summary>
/// Reads the directory's sign-in log for each break-glass account (Entra mode: Entra's sign-in log through Graph) and
/// raises the break-glass alarm for every sign-in found there — anywhere in the tenant, not only in the portal. Each
/// sign-in is audited once: the account's watermark moves in the same transaction, under a conditional update, so two
/// instances do not both record it.
/// </summary>
public sealed partial class BreakGlassSignInWatcher(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, BreakGlassAlarm alarm, TimeProvider time, IOptions<PimOptions> options, ILogger<BreakGlassSignInWatcher> logger)
{
    /// <summary>Reads every break-glass account's new sign-ins; returns how many were recorded.</summary>
    public async Task<int> WatchAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        List<(Guid Id, DateTimeOffset? SeenUntil)> accounts;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            accounts = [.. (await db.Principals.AsNoTracking().Where(p => p.IsBreakGlass && p.Kind == PrincipalKind.User)
                .Select(p => new { p.Id, p.DirectorySignInsSeenUntil }).ToListAsync(cancellationToken))
                .Select(p => (p.Id, p.DirectorySignInsSeenUntil))];
        }

        var recorded = 0;
        foreach (var (id, seenUntil) in accounts)
        {
            // An account never watched before is read from one interval back (the log keeps 30 days; older is history).
            var after = seenUntil ?? time.GetUtcNow() - options.Value.Alerts.Interval;
            var signIns = await gateway.ReadSignInsAsync(id, after, cancellationToken);
            if (signIns is not { Count: > 0 })
            {
                continue;
            }

            recorded += await RecordAsync(id, seenUntil, signIns, cancellationToken);
        }

        return recorded;
    }

    private async Task<int> RecordAsync(Guid id, DateTimeOffset? seenUntil, IReadOnlyList<DirectorySignIn> signIns, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var latest = signIns.Max(s => s.At).ToUniversalTime();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var claimed = await db.Principals
            .Where(p => p.Id == id && p.DirectorySignInsSeenUntil == seenUntil)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.DirectorySignInsSeenUntil, latest), cancellationToken);
        if (claimed == 0)
        {
            // Another instance recorded these sign-ins first.
            return 0;
        }

        var told = new List<Guid>();
        foreach (var signIn in signIns)
        {
            var client = new ClientInfo(signIn.IpAddress, null);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, client, now, AuditActions.DirectorySignIn, "account", id.ToString(), signIn.Succeeded ? AuditOutcome.Success : AuditOutcome.Failed,
                new { signIn = signIn.Id, at = signIn.At, application = signIn.Application, address = signIn.IpAddress, breakGlass = true }, id));
            told.AddRange(await alarm.StageAsync(db, id, $"{(signIn.Succeeded ? "signed in" : "tried to sign in")} to {signIn.Application ?? "an application"} at {signIn.At:u} (directory sign-in log)",
                client, now, cancellationToken) ?? []);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        alarm.Announce(told);
        LogRecorded(logger, signIns.Count, id);
        return signIns.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} directory sign-ins of break-glass account {AccountId} recorded")]
    private static partial void LogRecorded(ILogger logger, int count, Guid accountId);
}

/// <summary>Every <see cref="AlertOptions.Interval"/>: break-glass sign-ins in the directory, eligibility end notices, then the alerts.</summary>
public sealed class GovernanceWorker(
    EligibilityNotices notices, AlertEvaluator alerts, BreakGlassSignInWatcher signIns, TimeProvider time, IOptions<PimOptions> options, ILogger<GovernanceWorker> logger)
    : IntervalWorker(time, logger)
{
    protected override TimeSpan Interval => options.Value.Alerts.Interval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await signIns.WatchAsync(cancellationToken);
        await notices.RunAsync(cancellationToken);
        await alerts.EvaluateAsync(cancellationToken);
    }
}
