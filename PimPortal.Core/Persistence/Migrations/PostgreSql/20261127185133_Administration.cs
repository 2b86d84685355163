using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Administration : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_RoleEligibilities_RoleId",
                table: "RoleEligibilities");

            migrationBuilder.AddColumn<bool>(
                name: "AllowPermanentActiveAssignment",
                table: "RoleSettings",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<bool>(
                name: "AllowPermanentEligibility",
                table: "RoleSettings",
                type: "boolean",
                nullable: false,
                defaultValue: true);

            migrationBuilder.AddColumn<int>(
                name: "MaxActiveAssignmentDays",
                table: "RoleSettings",
                type: "integer",
                nullable: false,
                defaultValue: 180);

            migrationBuilder.AddColumn<int>(
                name: "MaxEligibilityDays",
                table: "RoleSettings",
                type: "integer",
                nullable: false,
                defaultValue: 365);

            migrationBuilder.AddColumn<Guid>(
                name: "Version",
                table: "RoleSettings",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "EndRecordedAt",
                table: "RoleEligibilities",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "EndingNoticeSentAt",
                table: "RoleEligibilities",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "RemovedBy",
                table: "RoleEligibilities",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "Version",
                table: "RoleEligibilities",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AlterColumn<Guid>(
                name: "RequestId",
                table: "RoleActivations",
                type: "uuid",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "uuid");

            migrationBuilder.AlterColumn<Guid>(
                name: "EligibilityId",
                table: "RoleActivations",
                type: "uuid",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "uuid");

            migrationBuilder.AddColumn<Guid>(
                name: "AssignedBy",
                table: "RoleActivations",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "PortalPermissions",
                table: "Principals",
                type: "text",
                nullable: true);

            migrationBuilder.AlterColumn<Guid>(
                name: "RecipientId",
                table: "Notifications",
                type: "uuid",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "uuid");

            migrationBuilder.CreateTable(
                name: "Alerts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Severity = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Summary = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    Detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    PrincipalId = table.Column<Guid>(type: "uuid", nullable: true),
                    RoleId = table.Column<Guid>(type: "uuid", nullable: true),
                    SubjectId = table.Column<Guid>(type: "uuid", nullable: true),
                    RaisedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Occurrences = table.Column<int>(type: "integer", nullable: false),
                    ResolvedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    Resolution = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    ResolvedBy = table.Column<Guid>(type: "uuid", nullable: true),
                    Version = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Alerts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RoleNotificationRules",
                columns: table => new
                {
                    RoleId = table.Column<Guid>(type: "uuid", nullable: false),
                    Event = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    NotifyAdministrators = table.Column<bool>(type: "boolean", nullable: false),
                    NotifyAssignee = table.Column<bool>(type: "boolean", nullable: false),
                    AdditionalRecipients = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoleNotificationRules", x => new { x.RoleId, x.Event });
                    table.ForeignKey(
                        name: "FK_RoleNotificationRules_RoleSettings_RoleId",
                        column: x => x.RoleId,
                        principalTable: "RoleSettings",
                        principalColumn: "RoleId",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_RoleEligibilities_CreatedAt_Id",
                table: "RoleEligibilities",
                columns: new[] { "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_RoleEligibilities_RoleId_NotAfter",
                table: "RoleEligibilities",
                columns: new[] { "RoleId", "NotAfter" });

            migrationBuilder.CreateIndex(
                name: "IX_RoleActivations_CreatedAt",
                table: "RoleActivations",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_RoleActivations_PrincipalId_RoleId_CreatedAt",
                table: "RoleActivations",
                columns: new[] { "PrincipalId", "RoleId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_ResolvedAt_RaisedAt",
                table: "Alerts",
                columns: new[] { "ResolvedAt", "RaisedAt" });

            migrationBuilder.CreateIndex(
                name: "UX_Alerts_OneOpenPerKey",
                table: "Alerts",
                column: "Key",
                unique: true,
                filter: "\"ResolvedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Alerts");

            migrationBuilder.DropTable(
                name: "RoleNotificationRules");

            migrationBuilder.DropIndex(
                name: "IX_RoleEligibilities_CreatedAt_Id",
                table: "RoleEligibilities");

            migrationBuilder.DropIndex(
                name: "IX_RoleEligibilities_RoleId_NotAfter",
                table: "RoleEligibilities");

            migrationBuilder.DropIndex(
                name: "IX_RoleActivations_CreatedAt",
                table: "RoleActivations");

            migrationBuilder.DropIndex(
                name: "IX_RoleActivations_PrincipalId_RoleId_CreatedAt",
                table: "RoleActivations");

            migrationBuilder.DropColumn(
                name: "AllowPermanentActiveAssignment",
                table: "RoleSettings");

            migrationBuilder.DropColumn(
                name: "AllowPermanentEligibility",
                table: "RoleSettings");

            migrationBuilder.DropColumn(
                name: "MaxActiveAssignmentDays",
                table: "RoleSettings");

            migrationBuilder.DropColumn(
                name: "MaxEligibilityDays",
                table: "RoleSettings");

            migrationBuilder.DropColumn(
                name: "Version",
                table: "RoleSettings");

            migrationBuilder.DropColumn(
                name: "EndRecordedAt",
                table: "RoleEligibilities");

            migrationBuilder.DropColumn(
                name: "EndingNoticeSentAt",
                table: "RoleEligibilities");

            migrationBuilder.DropColumn(
                name: "RemovedBy",
                table: "RoleEligibilities");

            migrationBuilder.DropColumn(
                name: "Version",
                table: "RoleEligibilities");

            migrationBuilder.DropColumn(
                name: "AssignedBy",
                table: "RoleActivations");

            migrationBuilder.DropColumn(
                name: "PortalPermissions",
                table: "Principals");

            migrationBuilder.AlterColumn<Guid>(
                name: "RequestId",
                table: "RoleActivations",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"),
                oldClrType: typeof(Guid),
                oldType: "uuid",
                oldNullable: true);

            migrationBuilder.AlterColumn<Guid>(
                name: "EligibilityId",
                table: "RoleActivations",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"),
                oldClrType: typeof(Guid),
                oldType: "uuid",
                oldNullable: true);

            migrationBuilder.AlterColumn<Guid>(
                name: "RecipientId",
                table: "Notifications",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"),
                oldClrType: typeof(Guid),
                oldType: "uuid",
                oldNullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_RoleEligibilities_RoleId",
                table: "RoleEligibilities",
                column: "RoleId");
        }
    }
}
