using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Lifecycle.Reviews;

/// <summary>
/// Writes an instance's lines in the database itself — one INSERT … SELECT per assignment kind, not a row at a time —
/// so opening a review of 100,000 eligibilities takes a moment: the assignments of the definition's roles valid at
/// <c>at</c> (break-glass accounts left out), each with its last activation, the activations in the recommendation
/// window, a recommendation with its reason, flags and the reviewer.
/// </summary>
internal static class ReviewLines
{
    public const string ReasonDisabled = "The account is disabled.";
    public const string ReasonNever = "Never activated.";
    public const string ReasonActiveAssignment = "Assigned active; decide whether it is still needed.";

    public static string ReasonStale(int days) => $"Not activated in {days} days.";

    public static string ReasonRecent(int days) => $"Activated within the last {days} days.";

    /// <summary>Inserts the lines of <paramref name="instance"/>; returns how many.</summary>
    public static async Task<int> InsertAsync(PimDbContext db, AccessReviewDefinition definition, AccessReviewInstance instance, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // SQLite: the lines' indexes are filled out of order; a page cache of 64 MB while they are written keeps their
        // pages in memory instead of evicting and reading them again (then back to the default: connections are pooled).
        var sqlite = db.Database.IsSqlite();
        if (sqlite)
        {
            await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -65536", cancellationToken);
        }

        try
        {
            var count = 0;
            if (definition.Assignments is ReviewAssignments.Eligible or ReviewAssignments.Both)
            {
                count += await InsertKindAsync(db, definition, instance, at, ReviewItemKind.Eligible, cancellationToken);
            }

            if (definition.Assignments is ReviewAssignments.Active or ReviewAssignments.Both)
            {
                count += await InsertKindAsync(db, definition, instance, at, ReviewItemKind.Active, cancellationToken);
            }

            return count;
        }
        finally
        {
            if (sqlite)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA cache_size = -2000", CancellationToken.None);
            }
        }
    }

    private static Task<int> InsertKindAsync(
        PimDbContext db, AccessReviewDefinition definition, AccessReviewInstance instance, DateTimeOffset at, ReviewItemKind kind, CancellationToken cancellationToken)
    {
        var sql = new Sql();
        string Q(string identifier) => db.Quote(identifier);
        var eligible = kind == ReviewItemKind.Eligible;

        // x: the assignment (an eligibility, or an active assignment: an activation an administrator made).
        var columns = new List<(string Column, string Value)>
        {
            ("InstanceId", sql.P(instance.Id)),
            ("Kind", sql.P(kind.ToString())),
            ("PrincipalId", $"x.{Q("PrincipalId")}"),
            ("PrincipalName", $"p.{Q("DisplayName")}"),
            ("RoleId", $"x.{Q("RoleId")}"),
            ("RoleName", $"r.{Q("DisplayName")}"),
            ("Scope", $"x.{Q("Scope")}"),
            (eligible ? "EligibilityId" : "ActivationId", $"x.{Q("Id")}"),
            ("LastActivation", $"a.{Q("LastAt")}"),
            ("ActivationCount", $"COALESCE(a.{Q("Recent")}, 0)"),
            ("Decision", sql.P(nameof(ReviewDecision.None))),
        };

        // The recommendation: remove what a disabled account holds, and eligibilities not activated in the window.
        var since = sql.P(Stored(db, instance.StartsAt.AddDays(-definition.RecommendationDays)));
        var disabled = $"p.{Q("IsEnabled")} = {sql.P(false)}";
        var stale = $"(a.{Q("LastAt")} IS NULL OR a.{Q("LastAt")} < {since})";
        var deny = sql.P(nameof(ReviewDecision.Deny));
        columns.Add(("Recommendation", eligible
            ? $"CASE WHEN {disabled} THEN {deny} WHEN {stale} THEN {deny} ELSE {sql.P(nameof(ReviewDecision.Approve))} END"
            : $"CASE WHEN {disabled} THEN {deny} ELSE {sql.P(nameof(ReviewDecision.None))} END"));
        columns.Add(("RecommendationReason", eligible
            ? $"CASE WHEN {disabled} THEN {sql.P(ReasonDisabled)} WHEN a.{Q("LastAt")} IS NULL THEN {sql.P(ReasonNever)} WHEN {stale} THEN {sql.P(ReasonStale(definition.RecommendationDays))} ELSE {sql.P(ReasonRecent(definition.RecommendationDays))} END"
            : $"CASE WHEN {disabled} THEN {sql.P(ReasonDisabled)} ELSE {sql.P(ReasonActiveAssignment)} END"));
        var neverFlag = eligible ? $" + CASE WHEN a.{Q("LastAt")} IS NULL THEN {(int)ReviewItemFlags.NeverActivated} ELSE 0 END" : "";
        columns.Add(("Flags",
            $"CASE WHEN {disabled} THEN {(int)ReviewItemFlags.Disabled} ELSE 0 END + CASE WHEN p.{Q("Kind")} = {sql.P(nameof(PrincipalKind.Group))} THEN {(int)ReviewItemFlags.Group} ELSE 0 END{neverFlag}"));

        // The reviewer: the principal (an enabled user), its enabled manager, or (none: null) the named or fallback reviewers.
        var managerJoin = "";
        switch (definition.ReviewerKind)
        {
            case ReviewerKind.Self:
                columns.Add(("ReviewerId", $"CASE WHEN p.{Q("Kind")} = {sql.P(nameof(PrincipalKind.User))} AND p.{Q("IsEnabled")} = {sql.P(true)} THEN x.{Q("PrincipalId")} END"));
                break;
            case ReviewerKind.Manager:
                managerJoin = $"LEFT JOIN {Q("Principals")} m ON m.{Q("Id")} = p.{Q("ManagerId")} ";
                columns.Add(("ReviewerId", $"CASE WHEN m.{Q("IsEnabled")} = {sql.P(true)} AND m.{Q("Id")} <> p.{Q("Id")} THEN m.{Q("Id")} END"));
                break;
        }

        var definitionId = sql.P(definition.Id);
        var atValue = sql.P(Stored(db, at));
        var scopeRoles = $"SELECT dr.{Q("RoleId")} FROM {Q("AccessReviewRoles")} dr WHERE dr.{Q("DefinitionId")} = {definitionId}";
        var activations =
            $"SELECT y.{Q("PrincipalId")}, y.{Q("RoleId")}, y.{Q("Scope")}, MAX(y.{Q("CreatedAt")}) AS {Q("LastAt")}, " +
            $"SUM(CASE WHEN y.{Q("CreatedAt")} >= {since} THEN 1 ELSE 0 END) AS {Q("Recent")} " +
            $"FROM {Q("RoleActivations")} y WHERE y.{Q("AssignedBy")} IS NULL AND y.{Q("CreatedAt")} <= {atValue} AND y.{Q("RoleId")} IN ({scopeRoles}) " +
            $"GROUP BY y.{Q("PrincipalId")}, y.{Q("RoleId")}, y.{Q("Scope")}";
        // Eligibilities that may be used at the moment (current and started: Policy/EligibilityUse.cs in SQL), and open
        // active assignments (RoleActivation.Open's statuses).
        var valid = eligible
            ? $"x.{Q("RemovedAt")} IS NULL AND x.{Q("NotBefore")} <= {atValue} AND (x.{Q("NotAfter")} IS NULL OR x.{Q("NotAfter")} > {atValue})"
            : $"x.{Q("AssignedBy")} IS NOT NULL AND x.{Q("Status")} IN ({string.Join(", ", RoleActivation.OpenStatuses.Select(s => sql.P(s.ToString())))})";
        var inactive = definition.OnlyInactiveDays is { } days
            ? $" AND (a.{Q("LastAt")} IS NULL OR a.{Q("LastAt")} < {sql.P(Stored(db, instance.StartsAt.AddDays(-days)))})"
            : "";
        var text =
            $"INSERT INTO {Q("AccessReviewItems")} ({string.Join(", ", columns.Select(c => Q(c.Column)))}) " +
            $"SELECT {string.Join(", ", columns.Select(c => c.Value))} " +
            $"FROM {Q(eligible ? "RoleEligibilities" : "RoleActivations")} x " +
            $"JOIN {Q("Principals")} p ON p.{Q("Id")} = x.{Q("PrincipalId")} " +
            $"JOIN {Q("PrivilegedRoles")} r ON r.{Q("Id")} = x.{Q("RoleId")} " +
            managerJoin +
            $"LEFT JOIN ({activations}) a ON a.{Q("PrincipalId")} = x.{Q("PrincipalId")} AND a.{Q("RoleId")} = x.{Q("RoleId")} AND a.{Q("Scope")} = x.{Q("Scope")} " +
            $"WHERE x.{Q("RoleId")} IN ({scopeRoles}) AND {valid} AND p.{Q("IsBreakGlass")} = {sql.P(false)}{inactive}";
        return db.Database.ExecuteSqlRawAsync(text, sql.Values, cancellationToken);
    }

    /// <summary>An instant as the provider stores it (SQLite: the sortable integer of the model's converter).</summary>
    private static object Stored(PimDbContext db, DateTimeOffset value) =>
        db.Database.IsSqlite() ? new DateTimeOffsetToBinaryConverter().ConvertToProvider(value)! : value;

    /// <summary>Collects the parameters of one statement, numbered as EF's raw SQL expects.</summary>
    private sealed class Sql
    {
        private readonly List<object> _values = [];

        public object[] Values => [.. _values];

        public string P(object value)
        {
            _values.Add(value);
            return $"{{{_values.Count - 1}}}";
        }
    }
}
