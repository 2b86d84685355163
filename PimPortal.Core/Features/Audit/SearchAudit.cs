using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

/// <summary>
/// The audit trail for auditors and PIM administrators: filtered, newest first, a page at a time (keyset on the
/// event's id: <paramref name="Before"/> is the last id of the page shown).
/// </summary>
[RequirePermission(PortalPermissions.Auditor, PortalPermissions.PimAdministrator)]
public sealed record SearchAudit(AuditFilter Filter, long? Before = null, int PageSize = 50) : IQuery<AuditPage>;

/// <summary>The signed-in user's own events: what they did, and what was done to them.</summary>
public sealed record GetMyAudit(long? Before = null, int PageSize = 50) : IQuery<AuditPage>;

/// <summary>
/// What to look for: a time range, who acted, whom it concerned, which role, which kind of event, its outcome, and
/// text in its details (justifications, tickets, reasons).
/// </summary>
public sealed record AuditFilter(
    DateTimeOffset? From = null, DateTimeOffset? To = null, Guid? ActorId = null, Guid? SubjectId = null, Guid? RoleId = null,
    string? Action = null, AuditOutcome? Outcome = null, string? Text = null);

/// <param name="Next">The id to ask for the next page with, or null at the end.</param>
public sealed record AuditPage(IReadOnlyList<AuditRow> Rows, long? Next);

/// <param name="RequestId">The activation request the event belongs to, when it belongs to one (its timeline).</param>
public sealed record AuditRow(
    long Id, DateTimeOffset OccurredAt, string ActorName, string Action, string TargetType, string TargetId, string? SubjectName, string? RoleName,
    AuditOutcome Outcome, string? Details, string? ClientAddress, Guid? RequestId);

public sealed class AuditQueryHandlers(IDbContextFactory<PimDbContext> dbFactory, RequestContext context)
    : IQueryHandler<SearchAudit, AuditPage>, IQueryHandler<GetMyAudit, AuditPage>
{
    public const int MaxPageSize = 200;

    public async ValueTask<AuditPage> Handle(SearchAudit query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var events = Filtered(db.AuditEvents.AsNoTracking(), query.Filter);
        return await PageAsync(db, events, query.Before, query.PageSize, cancellationToken);
    }

    public async ValueTask<AuditPage> Handle(GetMyAudit query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var mine = db.AuditEvents.AsNoTracking().Where(e => e.ActorId == me || e.SubjectId == me);
        return await PageAsync(db, mine, query.Before, query.PageSize, cancellationToken);
    }

    /// <summary>The events <paramref name="filter"/> selects (the search and the export apply the same one).</summary>
    internal static IQueryable<AuditEvent> Filtered(IQueryable<AuditEvent> events, AuditFilter? filter)
    {
        filter ??= new AuditFilter();
        if (filter.From is { } from)
        {
            var utc = from.ToUniversalTime();
            events = events.Where(e => e.OccurredAt >= utc);
        }

        if (filter.To is { } to)
        {
            var utc = to.ToUniversalTime();
            events = events.Where(e => e.OccurredAt < utc);
        }

        if (filter.ActorId is { } actor)
        {
            events = events.Where(e => e.ActorId == actor);
        }

        if (filter.SubjectId is { } subject)
        {
            events = events.Where(e => e.SubjectId == subject);
        }

        if (filter.RoleId is { } role)
        {
            events = events.Where(e => e.RoleId == role);
        }

        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            var action = filter.Action.Trim();
            events = events.Where(e => e.Action == action);
        }

        if (filter.Outcome is { } outcome)
        {
            events = events.Where(e => e.Outcome == outcome);
        }

        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            var text = filter.Text.Trim().ToLowerInvariant();
            events = events.Where(e => e.Details != null && e.Details.ToLower().Contains(text));
        }

        return events;
    }

    private static async Task<AuditPage> PageAsync(PimDbContext db, IQueryable<AuditEvent> events, long? before, int pageSize, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(pageSize, 1, MaxPageSize);
        if (before is { } last)
        {
            events = events.Where(e => e.Id < last);
        }

        var page = await events.OrderByDescending(e => e.Id).Take(size + 1).ToListAsync(cancellationToken);
        var more = page.Count > size;
        page = [.. page.Take(size)];

        // Names and the request each event belongs to, for the page's rows only.
        var principalIds = page.Where(e => e.SubjectId != null).Select(e => e.SubjectId!.Value).Distinct().ToList();
        var names = await db.Principals.AsNoTracking().Where(p => principalIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);
        var roleIds = page.Where(e => e.RoleId != null).Select(e => e.RoleId!.Value).Distinct().ToList();
        var roles = await db.PrivilegedRoles.AsNoTracking().Where(r => roleIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.DisplayName, cancellationToken);
        var activationIds = page.Where(e => e.TargetType == "activation" && Guid.TryParse(e.TargetId, out _)).Select(e => Guid.Parse(e.TargetId)).Distinct().ToList();
        var requests = await db.Activations.AsNoTracking().Where(a => activationIds.Contains(a.Id) && a.RequestId != null)
            .ToDictionaryAsync(a => a.Id, a => a.RequestId!.Value, cancellationToken);

        return new AuditPage(
            [.. page.Select(e => new AuditRow(
                e.Id, e.OccurredAt, e.ActorName, e.Action, e.TargetType, e.TargetId,
                e.SubjectId is { } s ? names.GetValueOrDefault(s) : null,
                e.RoleId is { } r ? roles.GetValueOrDefault(r) : null,
                e.Outcome, e.Details, e.ClientAddress,
                e.TargetType == "request" && Guid.TryParse(e.TargetId, out var request) ? request
                    : e.TargetType == "activation" && Guid.TryParse(e.TargetId, out var activation) && requests.TryGetValue(activation, out var of) ? of
                    : null))],
            more ? page[^1].Id : null);
    }
}
