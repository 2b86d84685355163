using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Lifecycle.Alerts;

/// <summary>
/// Raises "break-glass account used" the moment one signs in or acts in the portal, and tells every PIM administrator
/// (once per open alert; later uses are counted on it until an administrator acknowledges it).
/// </summary>
public sealed partial class BreakGlassAlarm(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Notifier notifier, Announcer announcer, ILogger<BreakGlassAlarm> logger)
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
        var work = new LifecycleContext(db, Actor.System, client, time.GetUtcNow());
        if (!await StageAsync(work, principalId, what, cancellationToken))
        {
            return false;
        }

        await db.SaveChangesAsync(cancellationToken);
        announcer.Announce(work.Announce);
        return true;
    }

    /// <summary>
    /// Writes the alert of one use into the unit of work (raised, or counted on the open one) with the administrators'
    /// notifications; false when the account is not break-glass.
    /// </summary>
    internal async Task<bool> StageAsync(LifecycleContext work, Guid principalId, string what, CancellationToken cancellationToken)
    {
        var db = work.Db;
        var account = await db.Principals.AsNoTracking().Where(p => p.Id == principalId && p.IsBreakGlass).Select(p => new { p.Id, p.DisplayName, p.UserPrincipalName })
            .SingleOrDefaultAsync(cancellationToken);
        if (account is null)
        {
            return false;
        }

        var key = $"break-glass:{account.Id}";
        var summary = $"Break-glass account {account.DisplayName} was used";
        var detail = $"{account.DisplayName} ({account.UserPrincipalName}): {what} at {work.Now:u} from {work.Client.Address ?? "an unknown address"}. " +
            "Emergency access accounts are for outages only: confirm with whoever used it why, and change its credentials afterwards.";

        // The unit of work may hold it already (several uses staged together), before the database does.
        var open = db.Alerts.Local.FirstOrDefault(a => a.Key == key && a.ResolvedAt == null)
            ?? await db.Alerts.SingleOrDefaultAsync(a => a.Key == key && a.ResolvedAt == null, cancellationToken);
        if (open is null)
        {
            await AlertRaising.RaiseAndTellAdministratorsAsync(work, new Alert(Guid.NewGuid(), AlertKind.BreakGlassUsed, key, AlertSeverity.High, summary, detail, account.Id, null, null, work.Now),
                notifier, cancellationToken);
        }
        else
        {
            open.SeenAgain(open.Summary, detail, work.Now, countOccurrence: true);
            work.Announce.AlertsChanged();
        }

        work.Announce.MailWritten();
        LogUsed(logger, account.DisplayName, what);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Break-glass account {Account} used: {What}")]
    private static partial void LogUsed(ILogger logger, string account, string what);
}
