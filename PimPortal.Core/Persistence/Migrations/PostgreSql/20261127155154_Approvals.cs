using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Approvals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ActivationRequests_Status_ExpiresAt",
                table: "ActivationRequests");

            migrationBuilder.DropIndex(
                name: "UX_Requests_OnePendingPerRoleAndScope",
                table: "ActivationRequests");

            migrationBuilder.AddColumn<string>(
                name: "ClosedReason",
                table: "ActivationRequests",
                type: "character varying(300)",
                maxLength: 300,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Notifications",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    RecipientId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Subject = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Body = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    Link = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    RequestId = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ReadAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    EmailTo = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    EmailStatus = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    EmailAttempts = table.Column<int>(type: "integer", nullable: false),
                    EmailDueAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    EmailSentAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    EmailError = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    Version = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Notifications", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Notifications_Principals_RecipientId",
                        column: x => x.RecipientId,
                        principalTable: "Principals",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ActivationRequests_Status_ExpiresAt_Id",
                table: "ActivationRequests",
                columns: new[] { "Status", "ExpiresAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ActivationRequests_Status_RequestedStart",
                table: "ActivationRequests",
                columns: new[] { "Status", "RequestedStart" });

            migrationBuilder.CreateIndex(
                name: "UX_Requests_OnePendingPerRoleAndScope",
                table: "ActivationRequests",
                columns: new[] { "RequesterId", "RoleId", "Scope", "Kind" },
                unique: true,
                filter: "\"Status\" IN ('Pending', 'Scheduled')");

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_CreatedAt",
                table: "Notifications",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_EmailStatus_EmailDueAt",
                table: "Notifications",
                columns: new[] { "EmailStatus", "EmailDueAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_RecipientId_CreatedAt",
                table: "Notifications",
                columns: new[] { "RecipientId", "CreatedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Notifications");

            migrationBuilder.DropIndex(
                name: "IX_ActivationRequests_Status_ExpiresAt_Id",
                table: "ActivationRequests");

            migrationBuilder.DropIndex(
                name: "IX_ActivationRequests_Status_RequestedStart",
                table: "ActivationRequests");

            migrationBuilder.DropIndex(
                name: "UX_Requests_OnePendingPerRoleAndScope",
                table: "ActivationRequests");

            migrationBuilder.DropColumn(
                name: "ClosedReason",
                table: "ActivationRequests");

            migrationBuilder.CreateIndex(
                name: "IX_ActivationRequests_Status_ExpiresAt",
                table: "ActivationRequests",
                columns: new[] { "Status", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "UX_Requests_OnePendingPerRoleAndScope",
                table: "ActivationRequests",
                columns: new[] { "RequesterId", "RoleId", "Scope", "Kind" },
                unique: true,
                filter: "\"Status\" = 'Pending'");
        }
    }
}
