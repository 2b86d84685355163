using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Graph.Models;
using Microsoft.Kiota.Abstractions;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Directory.Graph;

// The Graph gateway, continued: what the directory says (holders, principals, sign-ins), read page by page.
public sealed partial class GraphDirectoryGateway
{
    public async Task<IReadOnlyList<DirectoryHolder>> ListHoldersAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var roles = await db.PrivilegedRoles.AsNoTracking().ToListAsync(cancellationToken);
        var holders = new List<(Guid Principal, PrivilegedRole Role, DateTimeOffset? Since)>();
        foreach (var scope in roles.Where(r => r.Kind == RoleKind.AzureResourceRole).GroupBy(r => r.Scope, StringComparer.OrdinalIgnoreCase))
        {
            var assigned = await arm.ListAsync(scope.Key, cancellationToken);
            holders.AddRange(assigned.SelectMany(a => scope.Where(r => string.Equals(r.ExternalId, a.RoleDefinition, StringComparison.OrdinalIgnoreCase))
                .Select(r => (a.Principal, r, (DateTimeOffset?)null))));
        }

        foreach (var role in roles.Where(r => r.Kind != RoleKind.AzureResourceRole))
        {
            if (role.Kind == RoleKind.DirectoryRole)
            {
                var assignments = await RoleAssignmentsAsync($"roleDefinitionId eq '{role.ExternalId}'", cancellationToken);
                holders.AddRange(assignments.Where(a => a.DirectoryScopeId == role.Scope && Guid.TryParse(a.PrincipalId, out _))
                    .Select(a => (Guid.Parse(a.PrincipalId!), role, (DateTimeOffset?)null)));
            }
            else
            {
                holders.AddRange((await MembersAsync(role.ExternalId, cancellationToken)).Select(m => (m, role, (DateTimeOffset?)null)));
            }
        }

        var principalIds = holders.Select(h => h.Principal).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => principalIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        // A grant still in the directory is the portal's while it is open or its removal is still on its way.
        var open = await db.Activations.AsNoTracking()
            .Where(a => principalIds.Contains(a.PrincipalId) && a.RemovedFromDirectoryAt == null && a.Status != ActivationStatus.Failed)
            .Select(a => new { a.Id, a.PrincipalId, a.RoleId, a.Scope, a.NotBefore, a.NotAfter })
            .ToListAsync(cancellationToken);
        return [.. holders.Select(h =>
            {
                var activation = open.Find(a => a.PrincipalId == h.Principal && a.RoleId == h.Role.Id && a.Scope == h.Role.Scope);
                return new DirectoryHolder(h.Principal, names.GetValueOrDefault(h.Principal, h.Principal.ToString()), h.Role.Id, h.Role.DisplayName, h.Role.Kind,
                    h.Role.Scope, activation?.NotBefore ?? h.Since ?? DateTimeOffset.MinValue, activation?.NotAfter, activation?.Id);
            })
            .OrderBy(h => h.RoleName, StringComparer.Ordinal).ThenBy(h => h.PrincipalName, StringComparer.Ordinal)];
    }

    public async Task<IReadOnlyList<DirectoryPrincipal>> ReadPrincipalsAsync(IReadOnlyList<(Guid Id, PrincipalKind Kind)> principals, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principals);
        var read = new System.Collections.Concurrent.ConcurrentBag<DirectoryPrincipal>();
        await Parallel.ForEachAsync(principals, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.Parallelism), CancellationToken = cancellationToken },
            async (principal, token) =>
            {
                try
                {
                    if (principal.Kind == PrincipalKind.User)
                    {
                        var user = await graph.Users[principal.Id.ToString()].GetAsync(r =>
                        {
                            r.QueryParameters.Select = ["id", "displayName", "userPrincipalName", "accountEnabled", "lastPasswordChangeDateTime", "signInSessionsValidFromDateTime"];
                            r.QueryParameters.Expand = ["manager($select=id)"];
                        }, token);
                        if (user is not null)
                        {
                            read.Add(new DirectoryPrincipal(principal.Id, PrincipalKind.User, user.DisplayName ?? principal.Id.ToString(), user.UserPrincipalName,
                                user.AccountEnabled ?? false, Guid.TryParse(user.Manager?.Id, out var manager) ? manager : null, [])
                            {
                                CredentialsChangedAt = new[] { user.LastPasswordChangeDateTime, user.SignInSessionsValidFromDateTime }.Max(),
                            });
                        }
                    }
                    else
                    {
                        read.Add(new DirectoryPrincipal(principal.Id, PrincipalKind.Group, "", null, true, null, await MembersAsync(principal.Id.ToString(), token)));
                    }
                }
                catch (ApiException error) when (error.ResponseStatusCode == 404)
                {
                    // Deleted from the directory: a user that no longer exists holds nothing.
                    if (principal.Kind == PrincipalKind.User)
                    {
                        read.Add(new DirectoryPrincipal(principal.Id, PrincipalKind.User, "", null, Enabled: false, null, []) { Deleted = true });
                    }
                }
                catch (ApiException error) when (error.ResponseStatusCode is 429 or >= 500)
                {
                    // Throttled or unavailable for this one: left as it is until the next pass; the others go on.
                    LogReadSkipped(logger, principal.Id, error.ResponseStatusCode);
                }
            });
        return [.. read];
    }

    /// <summary>
    /// The user's sign-ins from Entra's sign-in log (<c>GET /auditLogs/signIns</c>, which needs AuditLog.Read.All and
    /// Entra ID P1), oldest first, following Graph's pages. Null when the log cannot be read now (no permission or
    /// licence, throttled, unavailable): the watcher tries again next pass from the same point.
    /// </summary>
    /// <summary>A token for Graph and the tenant's id (<c>GET /organization?$select=id</c>): what the portal's every read and write needs.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var organization = await graph.Organization.GetAsync(r => r.QueryParameters.Select = ["id"], cancellationToken);
        if (organization?.Value is not { Count: > 0 })
        {
            throw new InvalidOperationException("Graph answered, but names no organization for the configured tenant.");
        }
    }

    public async Task<IReadOnlyList<DirectorySignIn>?> ReadSignInsAsync(Guid userId, DateTimeOffset after, CancellationToken cancellationToken)
    {
        try
        {
            var signIns = new List<DirectorySignIn>();
            var page = await graph.AuditLogs.SignIns.GetAsync(r =>
            {
                r.QueryParameters.Filter = $"userId eq '{userId}' and createdDateTime gt {after.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture)}";
                r.QueryParameters.Top = 100;
            }, cancellationToken);
            while (page is not null)
            {
                signIns.AddRange((page.Value ?? []).Where(s => s.CreatedDateTime is not null).Select(s => new DirectorySignIn(
                    s.Id ?? "", userId, s.CreatedDateTime!.Value, s.AppDisplayName, s.IpAddress, s.Status?.ErrorCode is null or 0)));
                page = page.OdataNextLink is { } next
                    ? await graph.AuditLogs.SignIns.WithUrl(next).GetAsync(cancellationToken: cancellationToken)
                    : null;
            }

            return [.. signIns.Where(s => s.At > after).OrderBy(s => s.At)];
        }
        catch (ApiException error) when (error.ResponseStatusCode is 401 or 403 or 429 or >= 500)
        {
            LogSignInsUnreadable(logger, userId, error.ResponseStatusCode);
            return null;
        }
    }

    /// <summary>Every member of a group, following Graph's pages.</summary>
    private async Task<List<Guid>> MembersAsync(string groupId, CancellationToken cancellationToken)
    {
        var members = new List<Guid>();
        var page = await graph.Groups[groupId].Members.GetAsync(r =>
        {
            r.QueryParameters.Select = ["id"];
            r.QueryParameters.Top = 999;
        }, cancellationToken);
        while (page is not null)
        {
            members.AddRange((page.Value ?? []).Select(m => Guid.TryParse(m.Id, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty));
            page = page.OdataNextLink is { } next ? await graph.Groups[groupId].Members.WithUrl(next).GetAsync(cancellationToken: cancellationToken) : null;
        }

        return members;
    }

    /// <summary>Every role assignment matching <paramref name="filter"/>, following Graph's pages.</summary>
    private async Task<List<UnifiedRoleAssignment>> RoleAssignmentsAsync(string filter, CancellationToken cancellationToken)
    {
        var assignments = new List<UnifiedRoleAssignment>();
        var page = await graph.RoleManagement.Directory.RoleAssignments.GetAsync(r => r.QueryParameters.Filter = filter, cancellationToken);
        while (page is not null)
        {
            assignments.AddRange(page.Value ?? []);
            page = page.OdataNextLink is { } next ? await graph.RoleManagement.Directory.RoleAssignments.WithUrl(next).GetAsync(cancellationToken: cancellationToken) : null;
        }

        return assignments;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The sign-in log of {UserId} could not be read ({Status}); break-glass sign-ins outside the portal are not seen until it can (grant AuditLog.Read.All; Entra ID P1)")]
    private static partial void LogSignInsUnreadable(ILogger logger, Guid userId, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading principal {PrincipalId} from Graph was skipped this pass ({Status})")]
    private static partial void LogReadSkipped(ILogger logger, Guid principalId, int status);
}
