using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Assignments;

/// <summary>
/// Eligible or active assignments (PIM administrators), filtered by role and by the holder's name, a page at a time:
/// eligibilities newest first; active ones by their end.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
/// <param name="NotActivatedForDays">Eligibilities only: those not activated in this many days (and older than that).</param>
public sealed record ListAssignments(
    AssignmentKind Kind, Guid? RoleId = null, string? Holder = null, bool IncludeEnded = false, int Page = 0, int PageSize = 50, int? NotActivatedForDays = null)
    : IQuery<AssignmentPage>;

public enum AssignmentKind
{
    Eligible,
    Active,
}

public sealed record AssignmentPage(IReadOnlyList<AssignmentRow> Rows, int Total, DateTimeOffset Now);

/// <summary>
/// One assignment. For an eligibility: its window and whether it ends within the notice period; for an active one:
/// whether an administrator assigned it (or its holder activated it) and whether it is permanent.
/// </summary>
public sealed record AssignmentRow(
    Guid Id, Guid PrincipalId, string PrincipalName, PrincipalKind PrincipalKind, string? UserPrincipalName, bool PrincipalEnabled, bool IsBreakGlass,
    Guid RoleId, string RoleName, RoleKind RoleKind, string Scope, DateTimeOffset Start, DateTimeOffset? End, AssignmentState State, bool IsAssignment)
{
    public bool IsPermanent => End is null;
}

public enum AssignmentState
{
    /// <summary>Valid now.</summary>
    Current,

    /// <summary>Starts later.</summary>
    Upcoming,

    /// <summary>Ends within the notice period (eligibilities).</summary>
    EndingSoon,

    /// <summary>Ended at its end.</summary>
    Ended,

    /// <summary>Removed before its end.</summary>
    Removed,

    /// <summary>Being written to the directory (active).</summary>
    Provisioning,
}

public sealed class ListAssignmentsHandler(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Microsoft.Extensions.Options.IOptions<PimOptions> options)
    : IQueryHandler<ListAssignments, AssignmentPage>
{
    public async ValueTask<AssignmentPage> Handle(ListAssignments query, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var size = Math.Clamp(query.PageSize, 1, 200);
        var page = Math.Max(0, query.Page);
        var holder = query.Holder?.Trim().ToLowerInvariant() ?? "";
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var matching = db.Principals.AsNoTracking();
        if (holder.Length > 0)
        {
            matching = matching.Where(p => p.DisplayName.ToLower().Contains(holder) || (p.UserPrincipalName != null && p.UserPrincipalName.ToLower().Contains(holder)));
        }

        // Filter and count the assignments alone, take one page in index order, and only then join names to that page.
        if (query.Kind == AssignmentKind.Eligible)
        {
            var eligibilities = db.Eligibilities.AsNoTracking();
            if (query.RoleId is { } roleId)
            {
                eligibilities = eligibilities.Where(e => e.RoleId == roleId);
            }

            if (!query.IncludeEnded)
            {
                eligibilities = eligibilities.Where(RoleEligibility.Current.At(now));
            }

            if (query.NotActivatedForDays is { } days)
            {
                var since = now.AddDays(-days);
                eligibilities = eligibilities.Where(e => e.CreatedAt <= since
                    && !db.Activations.Any(a => a.PrincipalId == e.PrincipalId && a.RoleId == e.RoleId && a.Scope == e.Scope && a.CreatedAt > since));
            }

            if (holder.Length > 0)
            {
                // A join, not a correlated subquery: the names are matched once, then their eligibilities looked up.
                eligibilities = from e in eligibilities join p in matching on e.PrincipalId equals p.Id select e;
            }

            var total = await eligibilities.CountAsync(cancellationToken);
            var found = await (
                    from e in eligibilities.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Skip(page * size).Take(size)
                    join p in db.Principals on e.PrincipalId equals p.Id
                    join r in db.PrivilegedRoles on e.RoleId equals r.Id
                    select new { e, p, r })
                .ToListAsync(cancellationToken);
            return new AssignmentPage(
                [.. found.OrderByDescending(x => x.e.CreatedAt).ThenByDescending(x => x.e.Id).Select(x => new AssignmentRow(
                    x.e.Id, x.p.Id, x.p.DisplayName, x.p.Kind, x.p.UserPrincipalName, x.p.IsEnabled, x.p.IsBreakGlass, x.r.Id, x.r.DisplayName, x.r.Kind, x.e.Scope,
                    x.e.NotBefore, x.e.NotAfter, StateOf(x.e, now, options.Value.Alerts.EligibilityNotice), false))],
                total, now);
        }

        var activations = db.Activations.AsNoTracking();
        if (query.RoleId is { } role)
        {
            activations = activations.Where(a => a.RoleId == role);
        }

        activations = query.IncludeEnded
            ? activations
            : activations.Where(RoleActivation.Open);
        if (holder.Length > 0)
        {
            activations = from a in activations join p in matching on a.PrincipalId equals p.Id select a;
        }

        var count = await activations.CountAsync(cancellationToken);
        var open = await (
                from a in activations.OrderBy(a => a.NotAfter).ThenBy(a => a.Id).Skip(page * size).Take(size)
                join p in db.Principals on a.PrincipalId equals p.Id
                join r in db.PrivilegedRoles on a.RoleId equals r.Id
                select new { a, p, r })
            .ToListAsync(cancellationToken);
        return new AssignmentPage(
            [.. open.OrderBy(x => x.a.NotAfter).ThenBy(x => x.a.Id).Select(x => new AssignmentRow(
                x.a.Id, x.p.Id, x.p.DisplayName, x.p.Kind, x.p.UserPrincipalName, x.p.IsEnabled, x.p.IsBreakGlass, x.r.Id, x.r.DisplayName, x.r.Kind, x.a.Scope,
                x.a.NotBefore, x.a.NotAfter == RoleActivation.PermanentEnd ? null : x.a.NotAfter,
                x.a.Status switch
                {
                    ActivationStatus.Provisioning => AssignmentState.Provisioning,
                    ActivationStatus.Active => AssignmentState.Current,
                    ActivationStatus.Expired => AssignmentState.Ended,
                    _ => AssignmentState.Removed,
                },
                x.a.AssignedBy != null))],
            count, now);
    }

    /// <summary>An eligibility's state; it ends soon within <paramref name="noticePeriod"/> of its end (when its holder is told).</summary>
    public static AssignmentState StateOf(RoleEligibility eligibility, DateTimeOffset now, TimeSpan noticePeriod)
    {
        ArgumentNullException.ThrowIfNull(eligibility);
        return eligibility.RemovedAt is not null ? AssignmentState.Removed
            : eligibility.NotAfter is { } end && end <= now ? AssignmentState.Ended
            : eligibility.NotBefore > now ? AssignmentState.Upcoming
            : eligibility.NotAfter is { } soon && soon - now <= noticePeriod ? AssignmentState.EndingSoon
            : AssignmentState.Current;
    }
}
