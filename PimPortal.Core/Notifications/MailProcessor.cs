using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Notifications;

/// <summary>
/// Mails the notifications waiting for it: claims a batch (each row guarded by its version, so two instances never
/// send the same one), sends each, and records sent, or failed with a backoff; after the last attempt it gives up
/// and audits that. The notification stays in the portal either way.
/// </summary>
public sealed partial class MailProcessor(
    IDbContextFactory<PimDbContext> dbFactory,
    IMailSender sender,
    TimeProvider time,
    Microsoft.Extensions.Options.IOptions<PimOptions> options,
    ILogger<MailProcessor> logger)
{
    public const int BatchSize = 10;

    /// <summary>
    /// How long a claimed notification is held before another worker may take it: longer than a whole batch can take
    /// at the mail client's timeout, so a slow server never lets two instances send the same mail.
    /// </summary>
    public static TimeSpan LeaseFor(TimeSpan mailTimeout) => mailTimeout * (BatchSize + 2);

    /// <summary>Sends what is due; returns how many were claimed.</summary>
    public async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var due = await db.Notifications
            .Where(n => n.EmailStatus == EmailStatus.Pending && n.EmailDueAt <= now)
            .OrderBy(n => n.EmailDueAt)
            .Take(BatchSize)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        foreach (var notification in due)
        {
            notification.ClaimEmail(now + LeaseFor(options.Value.Smtp.Timeout));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another instance claimed some of them: leave the batch to it and look again.
            return 0;
        }

        foreach (var notification in due)
        {
            try
            {
                await sender.SendAsync(notification.EmailTo!, notification.Subject, notification.Body, cancellationToken);
                notification.EmailSent(time.GetUtcNow());
                db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, time.GetUtcNow(), AuditActions.NotificationMailed, "notification",
                    notification.Id.ToString(), AuditOutcome.Success, new { to = notification.EmailTo, subject = notification.Subject }, notification.RecipientId));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any failure of the mail server is recorded on the notification and retried.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var retryAt = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Min(3600, 15 * Math.Pow(4, notification.EmailAttempts)));
                notification.EmailFailed(ex.Message, retryAt);
                LogFailed(logger, ex, notification.Id, notification.EmailAttempts);
                if (notification.EmailStatus == EmailStatus.Failed)
                {
                    db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, time.GetUtcNow(), AuditActions.NotificationMailFailed, "notification",
                        notification.Id.ToString(), AuditOutcome.Failed, new { to = notification.EmailTo, error = notification.EmailError }, notification.RecipientId));
                }
            }

            // Recorded mail by mail: a later failure (or this instance stopping) does not send the earlier ones again.
            await db.SaveChangesAsync(cancellationToken);
        }

        return due.Count;
    }

    /// <summary>When the next mail is due, or null when none waits.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Notifications.AsNoTracking()
            .Where(n => n.EmailStatus == EmailStatus.Pending)
            .OrderBy(n => n.EmailDueAt)
            .Select(n => (DateTimeOffset?)n.EmailDueAt)
            .FirstOrDefaultAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mailing notification {NotificationId} failed (attempt {Attempt})")]
    private static partial void LogFailed(ILogger logger, Exception exception, Guid notificationId, int attempt);
}
