using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using Microsoft.Graph.Models.ODataErrors;
using Microsoft.Kiota.Abstractions;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Directory.Graph;

/// <summary>
/// Grants written to Microsoft Graph: directory roles as direct role assignments or PIM schedule requests, group
/// memberships as plain members or PIM for Groups assignments — and Azure resource roles to Azure Resource Manager as
/// role assignment schedule requests with a client-chosen name. Every change is idempotent: an assignment that already
/// exists is verified and accepted, one already gone counts as removed. Writes are not retried here — a throttled
/// change returns with Graph's Retry-After for the outbox to honour — and an ambiguous failure (5xx, a timeout) is
/// reconciled by reading the assignment back, so a write that did happen is never written twice.
/// </summary>
public sealed partial class GraphDirectoryGateway(
    GraphServiceClient graph,
    ArmRoleWriter arm,
    IOptions<GraphDirectoryOptions> options,
    IDbContextFactory<PimDbContext> dbFactory,
    ILogger<GraphDirectoryGateway> logger) : IDirectoryGateway
{
    /// <summary>How long to wait before removing again when Entra refuses a removal as too early.</summary>
    public static readonly TimeSpan TooEarlyRetry = TimeSpan.FromMinutes(1);

    private GraphDirectoryOptions Options => options.Value;

    public async Task<IReadOnlyList<DirectoryChangeResult>> ApplyAsync(IReadOnlyList<DirectoryChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var results = new DirectoryChangeResult[changes.Count];

        // The changes of one grant in order; different grants side by side.
        var byGrant = changes.Select((change, index) => (change, index)).GroupBy(x => x.change.Grant.ActivationId);
        await Parallel.ForEachAsync(byGrant, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.Parallelism), CancellationToken = cancellationToken },
            async (grant, token) =>
            {
                foreach (var (change, index) in grant)
                {
                    results[index] = await ApplyOneAsync(change, token);
                }
            });
        return results;
    }

    private async Task<DirectoryChangeResult> ApplyOneAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.Timeout);
        try
        {
            return change.Grant.Kind switch
            {
                RoleKind.DirectoryRole when Options.DirectoryRoles == DirectoryRoleMode.Direct => await DirectRoleAsync(change, timeout.Token),
                RoleKind.DirectoryRole => await ScheduledRoleAsync(change, timeout.Token),
                RoleKind.GroupMembership when Options.Groups == GroupGrantMode.Membership => await MembershipAsync(change, timeout.Token),
                RoleKind.GroupMembership => await PimGroupAsync(change, timeout.Token),
                _ => await AzureRoleAsync(change, timeout.Token),
            };
        }
        catch (ApiException error) when (error.ResponseStatusCode == 429)
        {
            // An ApiException, not only an ODataError: a gateway in front of Graph may answer 429 or 5xx without a JSON body.
            var retryAfter = RetryAfterOf(error);
            LogThrottled(logger, change.Kind, change.Grant.ActivationId, retryAfter?.TotalSeconds ?? -1);
            return new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, $"Throttled by Graph (429): {(error as ODataError)?.Error?.Message}") { RetryAfter = retryAfter, Throttled = true };
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsAmbiguous(ex))
        {
            // The write may or may not have happened: what the directory holds now decides.
            LogAmbiguous(logger, ex, change.Kind, change.Grant.ActivationId);
            return await ReconcileAsync(change, Describe(ex), cancellationToken);
        }
        catch (ApiException error)
        {
            var odata = error as ODataError;
            return new DirectoryChangeResult(change, DirectoryChangeOutcome.Refused, $"Graph refused the change ({error.ResponseStatusCode} {odata?.Error?.Code}): {odata?.Error?.Message ?? error.Message}");
        }
    }

    // Direct: the portal creates and deletes the role assignment itself.
    private async Task<DirectoryChangeResult> DirectRoleAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        var grant = change.Grant;
        switch (change.Kind)
        {
            case DirectoryChangeKind.Assign:
                try
                {
                    await graph.RoleManagement.Directory.RoleAssignments.PostAsync(new UnifiedRoleAssignment
                    {
                        OdataType = "#microsoft.graph.unifiedRoleAssignment",
                        RoleDefinitionId = grant.RoleExternalId,
                        PrincipalId = grant.PrincipalId.ToString(),
                        DirectoryScopeId = grant.Scope,
                    }, cancellationToken: cancellationToken);
                    return DirectoryChangeResult.Done(change);
                }
                catch (ODataError error) when (IsAlreadyThere(error))
                {
                    return await VerifiedAsync(change, present: true, cancellationToken);
                }

            case DirectoryChangeKind.Remove:
                foreach (var assignment in await DirectAssignmentsAsync(grant, cancellationToken))
                {
                    try
                    {
                        await graph.RoleManagement.Directory.RoleAssignments[assignment.Id].DeleteAsync(cancellationToken: cancellationToken);
                    }
                    catch (ODataError error) when (error.ResponseStatusCode == 404)
                    {
                        // Already gone: removed, as asked.
                    }
                }

                return DirectoryChangeResult.Done(change);

            default:
                // The portal enforces the end of a direct assignment; there is nothing to move in Entra.
                return DirectoryChangeResult.Done(change);
        }
    }

    // PIM schedule: Entra holds the schedule and enforces the end as well.
    private Task<DirectoryChangeResult> ScheduledRoleAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        var grant = change.Grant;
        var request = new UnifiedRoleAssignmentScheduleRequest
        {
            Action = change.Kind switch
            {
                DirectoryChangeKind.Assign => UnifiedRoleScheduleRequestActions.AdminAssign,
                DirectoryChangeKind.Extend => UnifiedRoleScheduleRequestActions.AdminExtend,
                _ => UnifiedRoleScheduleRequestActions.AdminRemove,
            },
            RoleDefinitionId = grant.RoleExternalId,
            PrincipalId = grant.PrincipalId.ToString(),
            DirectoryScopeId = grant.Scope,
            Justification = Justification(grant),
        };
        if (change.Kind != DirectoryChangeKind.Remove)
        {
            // Set only when there is one: a property set to null is still sent (as null), unlike the documented removal.
            request.ScheduleInfo = Schedule(grant);
        }

        return ScheduleRequestAsync(change, token => graph.RoleManagement.Directory.RoleAssignmentScheduleRequests.PostAsync(request, cancellationToken: token), cancellationToken);
    }

    // Plain group membership, added and removed by the portal.
    private async Task<DirectoryChangeResult> MembershipAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        var grant = change.Grant;
        switch (change.Kind)
        {
            case DirectoryChangeKind.Assign:
                try
                {
                    await graph.Groups[grant.RoleExternalId].Members.Ref.PostAsync(
                        new ReferenceCreate { OdataId = $"{Options.BaseUrl.AbsoluteUri.TrimEnd('/')}/directoryObjects/{grant.PrincipalId}" }, cancellationToken: cancellationToken);
                    return DirectoryChangeResult.Done(change);
                }
                catch (ODataError error) when (IsAlreadyThere(error))
                {
                    return await VerifiedAsync(change, present: true, cancellationToken);
                }

            case DirectoryChangeKind.Remove:
                try
                {
                    await graph.Groups[grant.RoleExternalId].Members[grant.PrincipalId.ToString()].Ref.DeleteAsync(cancellationToken: cancellationToken);
                }
                catch (ODataError error) when (error.ResponseStatusCode == 404)
                {
                    // Not a member (any more): removed, as asked.
                }

                return DirectoryChangeResult.Done(change);

            default:
                return DirectoryChangeResult.Done(change);
        }
    }

    // PIM for Groups: an assignment schedule request for membership, with an expiration.
    private Task<DirectoryChangeResult> PimGroupAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        var grant = change.Grant;
        var request = new PrivilegedAccessGroupAssignmentScheduleRequest
        {
            AccessId = PrivilegedAccessGroupRelationships.Member,
            Action = change.Kind switch
            {
                DirectoryChangeKind.Assign => ScheduleRequestActions.AdminAssign,
                DirectoryChangeKind.Extend => ScheduleRequestActions.AdminExtend,
                _ => ScheduleRequestActions.AdminRemove,
            },
            GroupId = grant.RoleExternalId,
            PrincipalId = grant.PrincipalId.ToString(),
            Justification = Justification(grant),
        };
        if (change.Kind != DirectoryChangeKind.Remove)
        {
            request.ScheduleInfo = Schedule(grant);
        }

        return ScheduleRequestAsync(change, token => graph.IdentityGovernance.PrivilegedAccess.Group.AssignmentScheduleRequests.PostAsync(request, cancellationToken: token), cancellationToken);
    }

    /// <summary>
    /// Posts a PIM schedule request (directory role or group) and reads Entra's answer the same way for both: an
    /// assignment already there is verified and accepted, one already gone counts as removed, a removal refused as too
    /// early comes back later.
    /// </summary>
    private async Task<DirectoryChangeResult> ScheduleRequestAsync(DirectoryChange change, Func<CancellationToken, Task> post, CancellationToken cancellationToken)
    {
        try
        {
            await post(cancellationToken);
            return DirectoryChangeResult.Done(change);
        }
        catch (ODataError error) when (change.Kind == DirectoryChangeKind.Assign && IsAlreadyThere(error))
        {
            return await VerifiedAsync(change, present: true, cancellationToken);
        }
        catch (ODataError error) when (change.Kind == DirectoryChangeKind.Remove && IsNotThere(error))
        {
            return DirectoryChangeResult.Done(change);
        }
        catch (ODataError error) when (change.Kind == DirectoryChangeKind.Remove && IsTooEarly(error))
        {
            return new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, $"Entra refused the removal as too early: {error.Error?.Message}") { RetryAfter = TooEarlyRetry };
        }
    }

    // Azure resource roles: ARM schedule requests under a name derived from the change (a retry is the same request).
    private async Task<DirectoryChangeResult> AzureRoleAsync(DirectoryChange change, CancellationToken cancellationToken)
    {
        var answer = await arm.SendAsync(change, cancellationToken);
        if (answer.IsSuccess)
        {
            // A request ARM took but did not carry out (its state says so) did not change anything.
            return answer.FailedState is { } failed
                ? new DirectoryChangeResult(change, DirectoryChangeOutcome.Refused, $"Azure Resource Manager did not carry out the request: {failed}.")
                : DirectoryChangeResult.Done(change);
        }

        if (answer.Status == 429)
        {
            return new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, $"Throttled by Azure Resource Manager (429): {answer.Message}") { RetryAfter = answer.RetryAfter, Throttled = true };
        }

        if (answer.IsAmbiguous)
        {
            // Did ARM take the request? Its name is ours, so reading it back says.
            var taken = await arm.ReadRequestAsync(change, cancellationToken);
            return taken switch
            {
                null => new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, $"Azure Resource Manager answered {answer.Status}; reading back showed it not done"),
                { FailedState: { } failed } => new DirectoryChangeResult(change, DirectoryChangeOutcome.Refused, $"Azure Resource Manager did not carry out the request: {failed}."),
                _ => DirectoryChangeResult.Done(change),
            };
        }

        return (change.Kind, answer.Code) switch
        {
            (DirectoryChangeKind.Assign, "RoleAssignmentExists") => await arm.IsAssignedAsync(change.Grant, cancellationToken)
                ? DirectoryChangeResult.Done(change)
                : new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, "ARM said the assignment exists, but reading it back did not find it yet."),
            (DirectoryChangeKind.Remove, "RoleAssignmentDoesNotExist" or "RoleAssignmentScheduleNotFound") => DirectoryChangeResult.Done(change),
            (DirectoryChangeKind.Remove, "ActiveDurationTooShort") => new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater,
                $"Azure refused the removal as too early: {answer.Message}") { RetryAfter = TooEarlyRetry },
            _ => new DirectoryChangeResult(change, DirectoryChangeOutcome.Refused, $"Azure Resource Manager refused the change ({answer.Status} {answer.Code}): {answer.Message}"),
        };
    }

    /// <summary>After an ambiguous failure: the change is done exactly when the directory now shows it done.</summary>
    private async Task<DirectoryChangeResult> ReconcileAsync(DirectoryChange change, string failure, CancellationToken cancellationToken)
    {
        if (change.Kind == DirectoryChangeKind.Extend)
        {
            // Whether an end moved cannot be read back reliably; extending again is harmless.
            return new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, failure);
        }

        try
        {
            var present = await IsPresentAsync(change.Grant, cancellationToken);
            return present == (change.Kind == DirectoryChangeKind.Assign)
                ? DirectoryChangeResult.Done(change)
                : new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, $"{failure}; reading back showed it not done");
        }
        catch (Exception ex) when (ex is ApiException or HttpRequestException or OperationCanceledException or Azure.RequestFailedException)
        {
            return new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, $"{failure}; reading back failed too: {Describe(ex)}");
        }
    }

    private async Task<DirectoryChangeResult> VerifiedAsync(DirectoryChange change, bool present, CancellationToken cancellationToken) =>
        await IsPresentAsync(change.Grant, cancellationToken) == present
            ? DirectoryChangeResult.Done(change)
            : new DirectoryChangeResult(change, DirectoryChangeOutcome.RetryLater, "Graph said the assignment exists, but reading it back did not find it yet.");

    private async Task<bool> IsPresentAsync(DirectoryGrant grant, CancellationToken cancellationToken)
    {
        if (grant.Kind == RoleKind.AzureResourceRole)
        {
            return await arm.IsAssignedAsync(grant, cancellationToken);
        }

        if (grant.Kind == RoleKind.DirectoryRole)
        {
            return (await DirectAssignmentsAsync(grant, cancellationToken)).Count > 0;
        }

        // Read strongly (no advanced query, whose index lags behind a write just made): the members, page by page.
        return (await MembersAsync(grant.RoleExternalId, cancellationToken)).Contains(grant.PrincipalId);
    }

    private async Task<List<UnifiedRoleAssignment>> DirectAssignmentsAsync(DirectoryGrant grant, CancellationToken cancellationToken)
    {
        var found = await RoleAssignmentsAsync($"principalId eq '{grant.PrincipalId}' and roleDefinitionId eq '{grant.RoleExternalId}'", cancellationToken);
        return [.. found.Where(a => a.DirectoryScopeId == grant.Scope)];
    }

    private static RequestSchedule Schedule(DirectoryGrant grant) => new()
    {
        StartDateTime = grant.NotBefore,
        Expiration = grant.IsPermanent
            ? new ExpirationPattern { Type = ExpirationPatternType.NoExpiration }
            : new ExpirationPattern { Type = ExpirationPatternType.AfterDateTime, EndDateTime = grant.NotAfter },
    };

    private static string Justification(DirectoryGrant grant) => $"PimPortal activation {grant.ActivationId}";

    private static bool IsAlreadyThere(ODataError error) =>
        error.ResponseStatusCode is 400 or 409
        && (error.Error?.Code is "RoleAssignmentExists"
            || error.Error?.Message?.Contains("already exist", StringComparison.OrdinalIgnoreCase) == true
            || error.Error?.Message?.Contains("conflicting object", StringComparison.OrdinalIgnoreCase) == true);

    private static bool IsNotThere(ODataError error) =>
        error.ResponseStatusCode == 404 || error.Error?.Code is "RoleAssignmentDoesNotExist" or "RoleAssignmentRequestResourceNotFound";

    private static bool IsTooEarly(ODataError error) => error.Error?.Code is "ActiveDurationTooShort";

    private static bool IsAmbiguous(Exception ex) => ex switch
    {
        ApiException error => error.ResponseStatusCode is 500 or 502 or 503 or 504,
        HttpRequestException or TimeoutException or OperationCanceledException or Azure.RequestFailedException => true,
        _ => false,
    };

    private static TimeSpan? RetryAfterOf(ApiException error)
    {
        if (error.ResponseHeaders.TryGetValue("Retry-After", out var values) && values.FirstOrDefault() is { } value)
        {
            if (int.TryParse(value, out var seconds))
            {
                return TimeSpan.FromSeconds(Math.Max(0, seconds));
            }

            if (DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }

    private static string Describe(Exception ex) => ex switch
    {
        ODataError error => $"Graph answered {error.ResponseStatusCode} {error.Error?.Code}",
        ApiException error => $"Graph answered {error.ResponseStatusCode}",
        OperationCanceledException => "Graph did not answer in time",
        _ => ex.Message,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Graph throttled {Kind} of {ActivationId}; retry after {Seconds} s")]
    private static partial void LogThrottled(ILogger logger, DirectoryChangeKind kind, Guid activationId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Graph gave an ambiguous answer to {Kind} of {ActivationId}; reading it back")]
    private static partial void LogAmbiguous(ILogger logger, Exception exception, DirectoryChangeKind kind, Guid activationId);
}
