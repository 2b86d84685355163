using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Auth;

/// <summary>
/// Entra sign-in: re-checks a connected circuit's user every 4 minutes against the directory itself (not only the
/// 15-minute sync): an account disabled or deleted in Entra, or disabled in the portal, loses the circuit within
/// 5 minutes, not at the end of the 8-hour session. A directory that cannot answer at that moment (throttled, down)
/// leaves the decision to the portal's own record, so an outage does not sign everybody out.
/// </summary>
internal sealed partial class EntraSessionRevalidation(
    ILogger<EntraSessionRevalidation> logger,
    IDbContextFactory<PimDbContext> dbFactory,
    IDirectoryGateway directory,
    TimeProvider time)
    : TimedRevalidation(time, logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(4);

    protected override TimeSpan RevalidationInterval => Interval;

    protected override async Task<bool> ValidateAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (user.GetPrincipalId() is not { } id)
        {
            return false;
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.Principals.AnyAsync(p => p.Id == id && p.IsEnabled, cancellationToken))
            {
                return false;
            }
        }

        IReadOnlyList<DirectoryPrincipal> found;
        try
        {
            found = await directory.ReadPrincipalsAsync([(id, PrincipalKind.User)], cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Throttled, down or timed out (an HTTP timeout is an OperationCanceledException too).
            LogDirectoryUnavailable(logger, ex);
            return true;
        }

        // Left out of the answer: the directory could not say for this one (throttled), and the portal's record stands.
        return found.SingleOrDefault(p => p.Id == id) is not { } read || read is { Enabled: true, Deleted: false };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The directory could not say whether a signed-in user is still enabled; the portal's record decides until the next check")]
    private static partial void LogDirectoryUnavailable(ILogger logger, Exception exception);
}
