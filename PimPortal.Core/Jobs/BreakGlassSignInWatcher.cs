using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Reads the directory's sign-in log for each break-glass account (Entra mode: Entra's sign-in log through Graph) and
/// raises the break-glass alarm for every sign-in found there — anywhere in the tenant, not only in the portal. Each
/// sign-in is audited once: the account's watermark moves in the same transaction, under a conditional update, so two
/// instances do not both record it.
/// </summary>
public sealed partial class BreakGlassSignInWatcher(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, BreakGlassAlarm alarm, Announcer announcer, TimeProvider time, IOptions<PimOptions> options, ILogger<BreakGlassSignInWatcher> logger)
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

        var work = LifecycleContext.System(db, now);
        foreach (var signIn in signIns)
        {
            var from = work.As(Actor.System, new ClientInfo(signIn.IpAddress, null));
            from.Audit(AuditActions.DirectorySignIn, "account", id.ToString(), signIn.Succeeded ? AuditOutcome.Success : AuditOutcome.Failed,
                new { signIn = signIn.Id, at = signIn.At, application = signIn.Application, address = signIn.IpAddress, breakGlass = true }, id);
            await alarm.StageAsync(from, id, $"{(signIn.Succeeded ? "signed in" : "tried to sign in")} to {signIn.Application ?? "an application"} at {signIn.At:u} (directory sign-in log)",
                cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        announcer.Announce(work.Announce);
        LogRecorded(logger, signIns.Count, id);
        return signIns.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} directory sign-ins of break-glass account {AccountId} recorded")]
    private static partial void LogRecorded(ILogger logger, int count, Guid accountId);
}
