using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle.Alerts;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// A user's password or authenticator was reset — by a PIM administrator in the portal, or in Entra as the directory
/// sync saw it. Whoever holds the new credentials can act as the user, so nothing given to the old ones carries over:
/// the last MFA proof no longer spares a code (a fresh step-up for the next activation), requests waiting for approval
/// or for their start lapse (an approval role needs a new approval), the reset is audited, and a high alert tells every
/// PIM administrator but its author; neither the author nor the account can acknowledge it. The user is told too, so a
/// reset they did not expect is noticed. The one place a reset takes effect.
/// </summary>
public sealed class CredentialResets(RequestLapses lapses, Notifier notifier)
{
    /// <summary>
    /// Stages the consequences of <paramref name="what"/> ("password", "authenticator", "password and authenticator",
    /// "credentials") of <paramref name="user"/> having been reset, as <paramref name="source"/> tells
    /// ("portal", "directory sync"), in <paramref name="work"/>'s transaction.
    /// </summary>
    public async Task ResetAsync(LifecycleContext work, Principal user, string what, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(user);
        var db = work.Db;
        if (await db.MfaStates.SingleOrDefaultAsync(m => m.PrincipalId == user.Id, cancellationToken) is { } mfa)
        {
            mfa.VoidProof();
        }

        var was = what == "credentials" || what.Contains(" and ", StringComparison.Ordinal) ? "were" : "was";
        var waiting = await db.ActivationRequests.Where(ActivationRequest.Waiting).Where(r => r.RequesterId == user.Id).ToListAsync(cancellationToken);
        var roleIds = waiting.Select(r => r.RoleId).Distinct().ToList();
        var roles = await db.PrivilegedRoles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);
        await lapses.LapseAsync(work, waiting, $"the {what} of the account {was} reset after it was made",
            $"Your {what} {was} reset after you asked. Ask again: the new request needs a fresh step-up and, where the role needs it, a new approval.",
            r => roles.GetValueOrDefault(r.RoleId, "the role"), cancellationToken);

        work.Audit(AuditActions.CredentialsReset, "principal", user.Id.ToString(), AuditOutcome.Success,
            new { principal = user.DisplayName, what, source, requestsLapsed = waiting.Count }, user.Id);

        var by = work.Actor.IsSystem ? "in the directory" : $"by {work.Actor.DisplayName}";
        var summary = $"The {what} of {user.DisplayName} {was} reset {by}";
        var detail = $"Whoever holds the new {what} can sign in as {user.DisplayName}. {Lapsed(waiting.Count)} Their next activation needs a fresh step-up and, "
            + "for a role that needs approval, a new approval: confirm with them, by a channel other than their account, that they asked for the reset.";
        var alert = new Alert(Guid.NewGuid(), AlertKind.CredentialsReset, $"credentials-reset:{Guid.NewGuid():N}", AlertSeverity.High, summary, detail,
            user.Id, null, null, work.Now) { CausedBy = work.By };
        await AlertRaising.RaiseAndTellAdministratorsAsync(work, alert, notifier, cancellationToken, except: work.By);

        await notifier.NotifyAsync(db, user.Id, NotificationKind.Alert, $"Your {what} {was} reset",
            $"Your {what} {was} reset {by} on {work.Now:u}. If you did not ask for this, tell your security team at once.", "/my-audit", cancellationToken);
        work.Announce.NotificationsOf([user.Id]);
        work.Announce.RolesOf([user.Id]);
    }

    private static string Lapsed(int count) => count switch
    {
        0 => "No request was waiting.",
        1 => "The one request that was waiting lapsed.",
        _ => $"The {count} requests that were waiting lapsed.",
    };
}
