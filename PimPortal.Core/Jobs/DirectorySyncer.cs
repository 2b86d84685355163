using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Jobs;

/// <summary>
/// Entra mode: keeps the portal's principals as the directory has them — names and sign-in names, whether the account
/// is enabled (an account disabled in Entra is disabled here, and the expiry worker then takes its grants away), each
/// user's manager, each group's members (among the principals the portal knows), and a user's credential resets (a
/// later password change or session revocation: <see cref="CredentialResets"/>). Changes that matter are audited.
/// </summary>
public sealed partial class DirectorySyncer(
    IDbContextFactory<PimDbContext> dbFactory, IDirectoryGateway gateway, TimeProvider time, CredentialResets resets, Announcer announcer, JobSignals signals, PortalEvents events,
    ILogger<DirectorySyncer> logger)
{
    /// <summary>Reads every principal from the directory and applies what changed; returns how many principals changed.</summary>
    public async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var principals = await db.Principals.ToListAsync(cancellationToken);
        var read = (await gateway.ReadPrincipalsAsync([.. principals.Select(p => (p.Id, p.Kind))], cancellationToken)).ToDictionary(p => p.Id);
        var known = principals.Select(p => p.Id).ToHashSet();
        var memberships = await db.GroupMemberships.ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var changed = new HashSet<Guid>();
        var work = LifecycleContext.System(db, now);

        void Audit(string action, Principal principal, object details) => db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, action, "principal",
            principal.Id.ToString(), AuditOutcome.Success, details, principal.Id));

        foreach (var principal in principals)
        {
            if (!read.TryGetValue(principal.Id, out var directory))
            {
                continue;
            }

            if (directory.Deleted)
            {
                if (principal.IsEnabled)
                {
                    principal.Disable();
                    Audit(AuditActions.PrincipalDisabled, principal, new { source = "directory sync", reason = "deleted from the directory" });
                    changed.Add(principal.Id);
                }

                continue;
            }

            if (principal.Kind == PrincipalKind.User)
            {
                if (directory.DisplayName != principal.DisplayName || directory.UserPrincipalName != principal.UserPrincipalName)
                {
                    principal.Rename(directory.DisplayName, directory.UserPrincipalName);
                    changed.Add(principal.Id);
                }

                if (principal.IsEnabled != directory.Enabled)
                {
                    if (directory.Enabled)
                    {
                        principal.Enable();
                    }
                    else
                    {
                        principal.Disable();
                    }

                    Audit(directory.Enabled ? AuditActions.PrincipalEnabled : AuditActions.PrincipalDisabled, principal, new { source = "directory sync" });
                    changed.Add(principal.Id);
                }

                // A password reset (or revoked sessions) in Entra: nothing given to the old credentials carries over.
                if (directory.CredentialsChangedAt is { } credentialsChanged && principal.ObserveCredentialChange(credentialsChanged))
                {
                    await resets.ResetAsync(work, principal, "credentials", "directory sync", cancellationToken);
                    changed.Add(principal.Id);
                }

                var manager = directory.ManagerId is { } m && known.Contains(m) && m != principal.Id ? m : (Guid?)null;
                if (principal.ManagerId != manager)
                {
                    principal.SetManager(manager);
                    changed.Add(principal.Id);
                }
            }
            else
            {
                var nowMembers = directory.Members.Where(known.Contains).ToHashSet();
                var had = memberships.Where(g => g.GroupId == principal.Id).ToList();
                foreach (var gone in had.Where(g => !nowMembers.Contains(g.MemberId)))
                {
                    db.GroupMemberships.Remove(gone);
                    Audit(AuditActions.GroupMemberRemoved, principal, new { member = gone.MemberId, source = "directory sync" });
                    changed.Add(gone.MemberId);
                }

                foreach (var added in nowMembers.Where(id => !had.Exists(g => g.MemberId == id)))
                {
                    db.GroupMemberships.Add(new GroupMembership(principal.Id, added));
                    Audit(AuditActions.GroupMemberAdded, principal, new { member = added, source = "directory sync" });
                    changed.Add(added);
                }
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        announcer.Announce(work.Announce);
        if (changed.Count > 0)
        {
            // A disabled account's grants end now, not at their end.
            signals.Expiry.Set();
            events.RolesChanged(changed);
            events.ApprovalsChanged();
            LogSynced(logger, changed.Count);
        }

        return changed.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Directory sync: {Count} principals changed")]
    private static partial void LogSynced(ILogger logger, int count);
}
