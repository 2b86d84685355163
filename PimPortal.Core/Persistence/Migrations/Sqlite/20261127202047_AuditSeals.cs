using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditSeals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_SubjectId",
                table: "AuditEvents");

            migrationBuilder.AddColumn<byte[]>(
                name: "ChainHash",
                table: "AuditEvents",
                type: "BLOB",
                maxLength: 32,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AuditCheckpoints",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false),
                    FirstEventId = table.Column<long>(type: "INTEGER", nullable: false),
                    LastEventId = table.Column<long>(type: "INTEGER", nullable: false),
                    EventCount = table.Column<long>(type: "INTEGER", nullable: false),
                    PreviousHash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    Hash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    FirstOccurredAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastOccurredAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SealedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditCheckpoints", x => x.Sequence);
                });

            migrationBuilder.CreateTable(
                name: "AuditPrunes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    AfterEventId = table.Column<long>(type: "INTEGER", nullable: false),
                    ThroughEventId = table.Column<long>(type: "INTEGER", nullable: false),
                    ThroughCheckpoint = table.Column<long>(type: "INTEGER", nullable: false),
                    EventCount = table.Column<long>(type: "INTEGER", nullable: false),
                    BoundaryHash = table.Column<byte[]>(type: "BLOB", maxLength: 32, nullable: false),
                    ArchiveFile = table.Column<string>(type: "TEXT", maxLength: 260, nullable: false),
                    ArchiveSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    PrunedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditPrunes", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Action_Id",
                table: "AuditEvents",
                columns: new[] { "Action", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_ActorId_Id",
                table: "AuditEvents",
                columns: new[] { "ActorId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_Outcome_Id",
                table: "AuditEvents",
                columns: new[] { "Outcome", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_RoleId_Id",
                table: "AuditEvents",
                columns: new[] { "RoleId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_SubjectId_Id",
                table: "AuditEvents",
                columns: new[] { "SubjectId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditCheckpoints_LastEventId",
                table: "AuditCheckpoints",
                column: "LastEventId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditPrunes_AfterEventId",
                table: "AuditPrunes",
                column: "AfterEventId",
                unique: true);

            // The audit trail is append-only, as on the server databases: an event may only be sealed (its chain hash
            // set once), and deleted only when a recorded pruning covers it; checkpoints and prunings never change.
            migrationBuilder.Sql(@"
CREATE TRIGGER ""TR_AuditEvents_NoUpdate"" BEFORE UPDATE ON ""AuditEvents""
WHEN OLD.""ChainHash"" IS NOT NULL OR NEW.""ChainHash"" IS NULL OR NEW.""Id"" IS NOT OLD.""Id"" OR NEW.""OccurredAt"" IS NOT OLD.""OccurredAt"" OR NEW.""ActorId"" IS NOT OLD.""ActorId"" OR NEW.""ActorName"" IS NOT OLD.""ActorName"" OR NEW.""Action"" IS NOT OLD.""Action"" OR NEW.""TargetType"" IS NOT OLD.""TargetType"" OR NEW.""TargetId"" IS NOT OLD.""TargetId"" OR NEW.""SubjectId"" IS NOT OLD.""SubjectId"" OR NEW.""RoleId"" IS NOT OLD.""RoleId"" OR NEW.""Outcome"" IS NOT OLD.""Outcome"" OR NEW.""Details"" IS NOT OLD.""Details"" OR NEW.""ClientAddress"" IS NOT OLD.""ClientAddress"" OR NEW.""UserAgent"" IS NOT OLD.""UserAgent"" OR NEW.""CorrelationId"" IS NOT OLD.""CorrelationId""
BEGIN
    SELECT RAISE(ABORT, 'Audit events cannot be changed: the audit trail is append-only.');
END;");
            migrationBuilder.Sql(@"
CREATE TRIGGER ""TR_AuditEvents_NoDelete"" BEFORE DELETE ON ""AuditEvents""
WHEN OLD.""Id"" > COALESCE((SELECT MAX(""ThroughEventId"") FROM ""AuditPrunes""), 0)
BEGIN
    SELECT RAISE(ABORT, 'Audit events cannot be deleted: the audit trail is append-only (only pruning under the retention period removes events).');
END;");
            // Full-text search over the text values of each event's details (justifications, tickets, reasons): a
            // contentless FTS5 index kept by triggers (events are only ever added, or pruned).
            migrationBuilder.Sql(@"
CREATE VIRTUAL TABLE ""AuditEventsText"" USING fts5(""Text"", content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');");
            migrationBuilder.Sql(@"
INSERT INTO ""AuditEventsText"" (rowid, ""Text"")
SELECT e.""Id"", (SELECT group_concat(t.""value"", ' ') FROM json_tree(e.""Details"") AS t WHERE t.""type"" = 'text')
FROM ""AuditEvents"" AS e WHERE json_valid(e.""Details"");");
            migrationBuilder.Sql(@"
CREATE TRIGGER ""TR_AuditEvents_Text"" AFTER INSERT ON ""AuditEvents"" WHEN json_valid(NEW.""Details"")
BEGIN
    INSERT INTO ""AuditEventsText"" (rowid, ""Text"")
    SELECT NEW.""Id"", group_concat(t.""value"", ' ') FROM json_tree(NEW.""Details"") AS t WHERE t.""type"" = 'text';
END;");
            migrationBuilder.Sql(@"
CREATE TRIGGER ""TR_AuditEvents_TextPruned"" AFTER DELETE ON ""AuditEvents""
BEGIN
    DELETE FROM ""AuditEventsText"" WHERE rowid = OLD.""Id"";
END;");
            foreach (var (table, what) in new[] { ("AuditCheckpoints", "checkpoints"), ("AuditPrunes", "prunings") })
            {
                foreach (var operation in new[] { "UPDATE", "DELETE" })
                {
                    migrationBuilder.Sql($@"
CREATE TRIGGER ""TR_{table}_No{operation}"" BEFORE {operation} ON ""{table}""
BEGIN
    SELECT RAISE(ABORT, 'Audit {what} cannot be changed or deleted: the audit trail is append-only.');
END;");
                }
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER \"TR_AuditEvents_Text\"");
            migrationBuilder.Sql("DROP TRIGGER \"TR_AuditEvents_TextPruned\"");
            migrationBuilder.Sql("DROP TABLE \"AuditEventsText\"");
            foreach (var trigger in new[] { "TR_AuditEvents_NoUpdate", "TR_AuditEvents_NoDelete", "TR_AuditCheckpoints_NoUPDATE", "TR_AuditCheckpoints_NoDELETE", "TR_AuditPrunes_NoUPDATE", "TR_AuditPrunes_NoDELETE" })
            {
                migrationBuilder.Sql($"DROP TRIGGER \"{trigger}\"");
            }

            migrationBuilder.DropTable(
                name: "AuditCheckpoints");

            migrationBuilder.DropTable(
                name: "AuditPrunes");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Action_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_ActorId_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_Outcome_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_RoleId_Id",
                table: "AuditEvents");

            migrationBuilder.DropIndex(
                name: "IX_AuditEvents_SubjectId_Id",
                table: "AuditEvents");

            migrationBuilder.DropColumn(
                name: "ChainHash",
                table: "AuditEvents");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEvents_SubjectId",
                table: "AuditEvents",
                column: "SubjectId");
        }
    }
}
