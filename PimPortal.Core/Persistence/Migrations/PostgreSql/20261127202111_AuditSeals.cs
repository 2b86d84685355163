using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.PostgreSql
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
                type: "bytea",
                maxLength: 32,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AuditCheckpoints",
                columns: table => new
                {
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    FirstEventId = table.Column<long>(type: "bigint", nullable: false),
                    LastEventId = table.Column<long>(type: "bigint", nullable: false),
                    EventCount = table.Column<long>(type: "bigint", nullable: false),
                    PreviousHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    Hash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    FirstOccurredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastOccurredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    SealedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditCheckpoints", x => x.Sequence);
                });

            migrationBuilder.CreateTable(
                name: "AuditPrunes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    AfterEventId = table.Column<long>(type: "bigint", nullable: false),
                    ThroughEventId = table.Column<long>(type: "bigint", nullable: false),
                    ThroughCheckpoint = table.Column<long>(type: "bigint", nullable: false),
                    EventCount = table.Column<long>(type: "bigint", nullable: false),
                    BoundaryHash = table.Column<byte[]>(type: "bytea", maxLength: 32, nullable: false),
                    ArchiveFile = table.Column<string>(type: "character varying(260)", maxLength: 260, nullable: false),
                    ArchiveSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    PrunedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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

            // The audit trail is append-only: an event may only be sealed (its chain hash set once), and deleted only
            // when a recorded pruning covers it; checkpoints and prunings are never changed.
            migrationBuilder.Sql(@"
CREATE FUNCTION pim_audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.""Id"" <= COALESCE((SELECT MAX(""ThroughEventId"") FROM ""AuditPrunes""), 0) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'Audit event % cannot be deleted: the audit trail is append-only (only pruning under the retention period removes events)', OLD.""Id""
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.""ChainHash"" IS NULL AND NEW.""ChainHash"" IS NOT NULL
        AND (NEW.""Id"", NEW.""OccurredAt"", NEW.""ActorId"", NEW.""ActorName"", NEW.""Action"", NEW.""TargetType"", NEW.""TargetId"", NEW.""SubjectId"", NEW.""RoleId"", NEW.""Outcome"", NEW.""Details"", NEW.""ClientAddress"", NEW.""UserAgent"", NEW.""CorrelationId"") IS NOT DISTINCT FROM (OLD.""Id"", OLD.""OccurredAt"", OLD.""ActorId"", OLD.""ActorName"", OLD.""Action"", OLD.""TargetType"", OLD.""TargetId"", OLD.""SubjectId"", OLD.""RoleId"", OLD.""Outcome"", OLD.""Details"", OLD.""ClientAddress"", OLD.""UserAgent"", OLD.""CorrelationId"") THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'Audit event % cannot be changed: the audit trail is append-only', OLD.""Id""
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE FUNCTION pim_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER ""TR_AuditEvents_Guard"" BEFORE UPDATE OR DELETE ON ""AuditEvents"" FOR EACH ROW EXECUTE FUNCTION pim_audit_events_guard();
CREATE TRIGGER ""TR_AuditEvents_NoTruncate"" BEFORE TRUNCATE ON ""AuditEvents"" FOR EACH STATEMENT EXECUTE FUNCTION pim_audit_append_only();
CREATE TRIGGER ""TR_AuditCheckpoints_Guard"" BEFORE UPDATE OR DELETE OR TRUNCATE ON ""AuditCheckpoints"" FOR EACH STATEMENT EXECUTE FUNCTION pim_audit_append_only();
CREATE TRIGGER ""TR_AuditPrunes_Guard"" BEFORE UPDATE OR DELETE OR TRUNCATE ON ""AuditPrunes"" FOR EACH STATEMENT EXECUTE FUNCTION pim_audit_append_only();
");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(@"
DROP TRIGGER ""TR_AuditEvents_Guard"" ON ""AuditEvents"";
DROP TRIGGER ""TR_AuditEvents_NoTruncate"" ON ""AuditEvents"";
DROP TRIGGER ""TR_AuditCheckpoints_Guard"" ON ""AuditCheckpoints"";
DROP TRIGGER ""TR_AuditPrunes_Guard"" ON ""AuditPrunes"";
DROP FUNCTION pim_audit_events_guard();
DROP FUNCTION pim_audit_append_only();
");

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
