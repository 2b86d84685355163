using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.SqlServer
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
                type: "varbinary(32)",
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
                    PreviousHash = table.Column<byte[]>(type: "varbinary(32)", maxLength: 32, nullable: false),
                    Hash = table.Column<byte[]>(type: "varbinary(32)", maxLength: 32, nullable: false),
                    FirstOccurredAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    LastOccurredAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    SealedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
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
                        .Annotation("SqlServer:Identity", "1, 1"),
                    AfterEventId = table.Column<long>(type: "bigint", nullable: false),
                    ThroughEventId = table.Column<long>(type: "bigint", nullable: false),
                    ThroughCheckpoint = table.Column<long>(type: "bigint", nullable: false),
                    EventCount = table.Column<long>(type: "bigint", nullable: false),
                    BoundaryHash = table.Column<byte[]>(type: "varbinary(32)", maxLength: 32, nullable: false),
                    ArchiveFile = table.Column<string>(type: "nvarchar(260)", maxLength: 260, nullable: false),
                    ArchiveSha256 = table.Column<string>(type: "nvarchar(64)", maxLength: 64, nullable: false),
                    PrunedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false)
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
CREATE TRIGGER [TR_AuditEvents_Guard] ON [AuditEvents] AFTER UPDATE, DELETE AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM deleted d WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.[Id] = d.[Id])
               AND d.[Id] > ISNULL((SELECT MAX([ThroughEventId]) FROM [AuditPrunes]), 0))
        THROW 50001, 'Audit events cannot be deleted: the audit trail is append-only (only pruning under the retention period removes events).', 1;
    IF EXISTS (SELECT 1 FROM deleted d JOIN inserted i ON i.[Id] = d.[Id]
               WHERE d.[ChainHash] IS NOT NULL OR i.[ChainHash] IS NULL
                  -- Compared as bytes: the columns' collation would let case and trailing spaces change.
                  OR EXISTS (SELECT d.[Id], d.[OccurredAt], d.[ActorId], CAST(d.[ActorName] AS varbinary(max)), CAST(d.[Action] AS varbinary(max)), CAST(d.[TargetType] AS varbinary(max)), CAST(d.[TargetId] AS varbinary(max)), d.[SubjectId], d.[RoleId], CAST(d.[Outcome] AS varbinary(max)), CAST(d.[Details] AS varbinary(max)), CAST(d.[ClientAddress] AS varbinary(max)), CAST(d.[UserAgent] AS varbinary(max)), CAST(d.[CorrelationId] AS varbinary(max)) EXCEPT SELECT i.[Id], i.[OccurredAt], i.[ActorId], CAST(i.[ActorName] AS varbinary(max)), CAST(i.[Action] AS varbinary(max)), CAST(i.[TargetType] AS varbinary(max)), CAST(i.[TargetId] AS varbinary(max)), i.[SubjectId], i.[RoleId], CAST(i.[Outcome] AS varbinary(max)), CAST(i.[Details] AS varbinary(max)), CAST(i.[ClientAddress] AS varbinary(max)), CAST(i.[UserAgent] AS varbinary(max)), CAST(i.[CorrelationId] AS varbinary(max))))
        THROW 50002, 'Audit events cannot be changed: the audit trail is append-only.', 1;
END");
            migrationBuilder.Sql(@"
CREATE TRIGGER [TR_AuditCheckpoints_Guard] ON [AuditCheckpoints] AFTER UPDATE, DELETE AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM deleted)
        THROW 50003, 'Audit checkpoints cannot be changed or deleted: the audit trail is append-only.', 1;
END");
            migrationBuilder.Sql(@"
CREATE TRIGGER [TR_AuditPrunes_Guard] ON [AuditPrunes] AFTER UPDATE, DELETE AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM deleted)
        THROW 50004, 'Audit prunings cannot be changed or deleted: the audit trail is append-only.', 1;
END");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER [TR_AuditEvents_Guard]");
            migrationBuilder.Sql("DROP TRIGGER [TR_AuditCheckpoints_Guard]");
            migrationBuilder.Sql("DROP TRIGGER [TR_AuditPrunes_Guard]");

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
