using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;

namespace PimPortal.Core.Lifecycle;

/// <summary>
/// Carries out an approved request at its start — the last approval of a request for now, or the scheduler at a
/// scheduled time: grants the role (or moves the activation's end), unless by then the eligibility may no longer be
/// used (<see cref="EligibilityUse"/>) or the request no longer makes sense, in which case it lapses and nothing is
/// granted. Everything goes into the caller's unit of work.
/// </summary>
public sealed class ApprovedRequests(Grants grants, RequestLapses lapses)
{
    /// <summary>What carrying out the request did: the grant made or extended, or why it lapsed.</summary>
    public sealed record Outcome(Guid? ActivationId, string? LapsedBecause);

    public async Task<Outcome> CarryOutAsync(LifecycleContext work, ActivationRequest request, IReadOnlyList<string> approvedBy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Status != ActivationRequestStatus.Approved)
        {
            throw new InvalidOperationException($"Only an approved request is carried out (this one is {request.Status}).");
        }

        var db = work.Db;
        var now = work.Now;
        var eligibility = await db.Eligibilities.AsNoTracking().SingleAsync(e => e.Id == request.EligibilityId, cancellationToken);
        var requester = await db.Principals.Where(p => p.Id == request.RequesterId).Select(p => new { p.IsEnabled, p.DisplayName }).SingleAsync(cancellationToken);
        var groups = db.EnabledGroupsOf(request.RequesterId);
        var held = eligibility.PrincipalId == request.RequesterId || await groups.ContainsAsync(eligibility.PrincipalId, cancellationToken);
        if (EligibilityUse.Problems(eligibility, requester.IsEnabled, held, now) is [var problem, ..])
        {
            return await LapseAsync(work, request, EligibilityUse.WhyNothingWasGranted(problem), cancellationToken);
        }

        if (request.Kind == ActivationRequestKind.Activate)
        {
            if (await db.Activations.Where(RoleActivation.Open).AnyAsync(a => a.PrincipalId == request.RequesterId && a.RoleId == request.RoleId && a.Scope == request.Scope, cancellationToken))
            {
                return await LapseAsync(work, request, "the role is already active at this scope", cancellationToken);
            }

            // A scheduled request keeps to the window it asked for: approved late, it gets what is left of it.
            var latest = eligibility.NotAfter;
            if (request.IsScheduled && (latest is null || request.RequestedStart + request.Duration < latest))
            {
                latest = request.RequestedStart + request.Duration;
            }

            if (latest <= now)
            {
                return await LapseAsync(work, request, "the requested window has passed", cancellationToken);
            }

            var roleName = await db.PrivilegedRoles.Where(r => r.Id == request.RoleId).Select(r => r.DisplayName).SingleAsync(cancellationToken);
            var activation = await grants.GrantAsync(work, request, requester.DisplayName, roleName, approvedBy, latest, cancellationToken);
            return new Outcome(activation.Id, null);
        }

        var extended = await db.Activations.SingleAsync(a => a.Id == request.TargetActivationId, cancellationToken);
        var newEnd = now + request.Duration;
        if (eligibility.NotAfter is { } cap && cap < newEnd)
        {
            newEnd = cap;
        }

        var why = !extended.IsOpen || now >= extended.NotAfter ? "the activation had already ended"
            : newEnd <= extended.NotAfter ? "the activation already lasts beyond the extension asked for"
            : null;
        if (why is not null)
        {
            return await LapseAsync(work, request, why, cancellationToken);
        }

        Grants.Extend(work, extended, newEnd, previousEnd => new { request = request.Id, previousNotAfter = previousEnd, notAfter = newEnd, approvedBy });
        return new Outcome(extended.Id, null);
    }

    /// <summary>Who approved the request, by name, as the audit trail records it ("policy" when no approval was needed).</summary>
    public static async Task<IReadOnlyList<string>> ApprovedByAsync(PimDbContext db, ActivationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(request);
        if (request.ApprovalsNeeded == 0)
        {
            return ["policy"];
        }

        var ids = request.Decisions.Where(d => d.Verdict == ApprovalVerdict.Approve).Select(d => d.ApproverId).ToList();
        var names = await db.Principals.AsNoTracking().Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        return [.. ids.Select(id => names.GetValueOrDefault(id, id.ToString()))];
    }

    private async Task<Outcome> LapseAsync(LifecycleContext work, ActivationRequest request, string why, CancellationToken cancellationToken)
    {
        await lapses.LapseAsync(work, [request], why, null, _ => "", cancellationToken);
        return new Outcome(null, request.ClosedReason);
    }
}
