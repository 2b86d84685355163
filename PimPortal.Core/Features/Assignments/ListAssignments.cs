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
public sealed record ListAssignments(AssignmentKind Kind, Guid? RoleId = null, string? Holder = null, bool IncludeEnded = false, int Page = 0, int PageSize = 50)
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
        var principals = db.Principals.AsNoTracking();
        if (holder.Length > 0)
        {
            principals = principals.Where(p => p.DisplayName.ToLower().Contains(holder) || (p.UserPrincipalName != null && p.UserPrincipalName.ToLower().Contains(holder)));
        }

        if (query.Kind == AssignmentKind.Eligible)
        {
            var eligibilities = db.Eligibilities.AsNoTracking();
            if (query.RoleId is { } roleId)
            {
                eligibilities = eligibilities.Where(e => e.RoleId == roleId);
            }

            if (!query.IncludeEnded)
            {
                eligibilities = eligibilities.Where(e => e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now));
            }

            var rows = from e in eligibilities
                       join p in principals on e.PrincipalId equals p.Id
                       select new { e, p, e.Role };
            var total = await rows.CountAsync(cancellationToken);
            var found = await rows.OrderByDescending(r => r.e.CreatedAt).ThenBy(r => r.e.Id).Skip(page * size).Take(size).ToListAsync(cancellationToken);
            return new AssignmentPage(
                [.. found.Select(r => new AssignmentRow(
                    r.e.Id, r.p.Id, r.p.DisplayName, r.p.Kind, r.p.UserPrincipalName, r.p.IsEnabled, r.p.IsBreakGlass, r.Role.Id, r.Role.DisplayName, r.Role.Kind, r.e.Scope,
                    r.e.NotBefore, r.e.NotAfter, StateOf(r.e, now, options.Value.Alerts.EligibilityNotice), false))],
                total, now);
        }

        var activations = db.Activations.AsNoTracking();
        if (query.RoleId is { } role)
        {
            activations = activations.Where(a => a.RoleId == role);
        }

        activations = query.IncludeEnded
            ? activations
            : activations.Where(a => a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active);
        var active = from a in activations
                     join p in principals on a.PrincipalId equals p.Id
                     select new { a, p, a.Role };
        var count = await active.CountAsync(cancellationToken);
        var open = await active.OrderBy(r => r.a.NotAfter).ThenBy(r => r.a.Id).Skip(page * size).Take(size).ToListAsync(cancellationToken);
        return new AssignmentPage(
            [.. open.Select(r => new AssignmentRow(
                r.a.Id, r.p.Id, r.p.DisplayName, r.p.Kind, r.p.UserPrincipalName, r.p.IsEnabled, r.p.IsBreakGlass, r.Role.Id, r.Role.DisplayName, r.Role.Kind, r.a.Scope,
                r.a.NotBefore, r.a.NotAfter == RoleActivation.PermanentEnd ? null : r.a.NotAfter,
                r.a.Status switch
                {
                    ActivationStatus.Provisioning => AssignmentState.Provisioning,
                    ActivationStatus.Active => AssignmentState.Current,
                    ActivationStatus.Expired => AssignmentState.Ended,
                    _ => AssignmentState.Removed,
                },
                r.a.AssignedBy != null))],
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
