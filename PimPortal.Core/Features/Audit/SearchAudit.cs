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

public sealed class SearchAuditHandler(IDbContextFactory<PimDbContext> dbFactory) : IQueryHandler<SearchAudit, AuditPage>
{
    public const int MaxPageSize = 200;

    public async ValueTask<AuditPage> Handle(SearchAudit query, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var events = await FilteredAsync(db, query.Filter, cancellationToken);
        return await PageAsync(db, events, query.Before, query.PageSize, cancellationToken);
    }

    /// <summary>
    /// The events <paramref name="filter"/> selects (the search and the export apply the same one), shaped so that one
    /// index drives a newest-first (or oldest-first) walk that stops at the page's end, whatever the trail's size:
    /// <list type="bullet">
    /// <item>a time range becomes a range of ids first, exactly, from the checkpoints (each knows its ids and the
    /// earliest and latest time of its events) and the few events not sealed yet; the time itself is then checked on
    /// the rows that range gives, not looked up in its own index (whose order is not the ids');</item>
    /// <item>a rare outcome (refused, failed) drives through its index, the other columns checked on its rows (SQLite
    /// keeps no histogram, and would otherwise start from a common event type);</item>
    /// <item>SQLite: text goes through the full-text index of the details, which walks its matches in id order.</item>
    /// </list>
    /// </summary>
    internal static async Task<IQueryable<AuditEvent>> FilteredAsync(PimDbContext db, AuditFilter? filter, CancellationToken cancellationToken)
    {
        filter ??= new AuditFilter();
        var match = db is SqlitePimDbContext && !string.IsNullOrWhiteSpace(filter.Text) ? FullTextQuery(filter.Text) : null;
        var events = (match is null
            ? db.AuditEvents
            : db.AuditEvents.FromSql($"""
                SELECT "AuditEventsText".rowid AS "Id", e."OccurredAt", e."ActorId", e."ActorName", e."Action", e."TargetType", e."TargetId", e."SubjectId",
                       e."RoleId", e."Outcome", e."Details", e."ClientAddress", e."UserAgent", e."CorrelationId", e."ChainHash"
                FROM "AuditEventsText" JOIN "AuditEvents" AS e ON e."Id" = "AuditEventsText".rowid
                WHERE "AuditEventsText" MATCH {match}
                """)).AsNoTracking();

        if (filter.From is not null || filter.To is not null)
        {
            var from = filter.From?.ToUniversalTime();
            var to = filter.To?.ToUniversalTime();
            var (low, high) = await IdRangeAsync(db, from, to, cancellationToken);
            events = OccurredWithin(events.Where(e => e.Id >= low && e.Id <= high), from, to);
        }

        var rareOutcome = filter.Outcome is AuditOutcome.Refused or AuditOutcome.Failed;
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
            events = rareOutcome ? events.Where(e => (e.RoleId ?? Guid.Empty) == role) : events.Where(e => e.RoleId == role);
        }

        if (!string.IsNullOrWhiteSpace(filter.Action))
        {
            var action = filter.Action.Trim();
            events = rareOutcome ? events.Where(e => e.Action + "" == action) : events.Where(e => e.Action == action);
        }

        if (filter.Outcome is { } outcome)
        {
            events = events.Where(e => e.Outcome == outcome);
        }

        if (match is null && !string.IsNullOrWhiteSpace(filter.Text))
        {
            // Other engines match the text anywhere in the details (a prefix's star is no more than what it already is).
            var text = filter.Text.Replace("*", "", StringComparison.Ordinal).Trim().ToLowerInvariant();
            events = events.Where(e => e.Details != null && e.Details.ToLower().Contains(text));
        }

        return events;
    }

    /// <summary>
    /// The events of [<paramref name="from"/>, <paramref name="to"/>), checked on the rows an id range gives: written as
    /// a conditional the planner cannot take for a lookup in the time index (whose order is not the ids').
    /// </summary>
    private static IQueryable<AuditEvent> OccurredWithin(IQueryable<AuditEvent> events, DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } f)
        {
            events = events.Where(e => (e.Id > 0 ? e.OccurredAt : e.OccurredAt) >= f);
        }

        if (to is { } t)
        {
            events = events.Where(e => (e.Id > 0 ? e.OccurredAt : e.OccurredAt) < t);
        }

        return events;
    }

    /// <summary>
    /// The ids an event in [<paramref name="from"/>, <paramref name="to"/>) can have: sealed events lie in checkpoints
    /// whose times overlap the range; events not sealed yet come after the last checkpoint (and are looked at
    /// themselves, being few).
    /// </summary>
    private static async Task<(long Low, long High)> IdRangeAsync(PimDbContext db, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var lastSealed = await db.AuditCheckpoints.MaxAsync(c => (long?)c.LastEventId, cancellationToken) ?? 0;
        var checkpoints = db.AuditCheckpoints.AsQueryable();
        if (from is { } f)
        {
            checkpoints = checkpoints.Where(c => c.LastOccurredAt >= f);
        }

        if (to is { } t)
        {
            checkpoints = checkpoints.Where(c => c.FirstOccurredAt < t);
        }

        var sealedLow = await checkpoints.MinAsync(c => (long?)c.FirstEventId, cancellationToken);
        var sealedHigh = await checkpoints.MaxAsync(c => (long?)c.LastEventId, cancellationToken);
        var anyUnsealed = await OccurredWithin(db.AuditEvents.Where(e => e.Id > lastSealed), from, to).AnyAsync(cancellationToken);
        var low = sealedLow ?? (anyUnsealed ? lastSealed + 1 : long.MaxValue);
        var high = anyUnsealed ? long.MaxValue : sealedHigh ?? long.MinValue;
        return (low, high);
    }

    /// <summary>
    /// The FTS5 query for what was typed: every word (letters and digits) required, matched whole (any case and
    /// accents); a word ending in <c>*</c> matches the words it begins — "approved change" finds "Approved change
    /// window…", "INC00*" every ticket starting so. Null when nothing searchable was typed. (Whole words keep a search
    /// for a common word as fast as for a rare one; a prefix of a common word has to merge all the words it begins.)
    /// </summary>
    internal static string? FullTextQuery(string text)
    {
        var words = System.Text.RegularExpressions.Regex.Matches(text, @"([\p{L}\p{N}]+)(\*?)").Take(12)
            .Select(m => $"\"{m.Groups[1].Value}\"{m.Groups[2].Value}").ToList();
        return words.Count == 0 ? null : string.Join(" AND ", words);
    }

    internal static async Task<AuditPage> PageAsync(PimDbContext db, IQueryable<AuditEvent> events, long? before, int pageSize, CancellationToken cancellationToken)
    {
        var size = Math.Clamp(pageSize, 1, MaxPageSize);
        if (before is { } last)
        {
            events = events.Where(e => e.Id < last);
        }

        // The page's ids first (an index can often answer alone, and only numbers are sorted), then their rows.
        var ids = await events.OrderByDescending(e => e.Id).Select(e => e.Id).Take(size + 1).ToListAsync(cancellationToken);
        var more = ids.Count > size;
        ids = [.. ids.Take(size)];
        var page = await db.AuditEvents.AsNoTracking().Where(e => ids.Contains(e.Id)).OrderByDescending(e => e.Id).ToListAsync(cancellationToken);

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
