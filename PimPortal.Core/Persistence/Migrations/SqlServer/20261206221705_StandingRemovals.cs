using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class StandingRemovals : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "ActivationId",
                table: "OutboxMessages",
                newName: "TargetId");

            migrationBuilder.RenameIndex(
                name: "IX_OutboxMessages_ActivationId",
                table: "OutboxMessages",
                newName: "IX_OutboxMessages_TargetId");

            migrationBuilder.CreateTable(
                name: "StandingRemovals",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Source = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    PrincipalId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    RoleId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Scope = table.Column<string>(type: "nvarchar(512)", maxLength: 512, nullable: false),
                    Since = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    EligibilityId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    FindingId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    Justification = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: true),
                    RequestedBy = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    RequestedByName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    RequestedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    Status = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    CompletedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Error = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StandingRemovals", x => x.Id);
                    table.ForeignKey(
                        name: "FK_StandingRemovals_PrivilegedRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "PrivilegedRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_StandingRemovals_RoleId",
                table: "StandingRemovals",
                column: "RoleId");

            migrationBuilder.CreateIndex(
                name: "IX_StandingRemovals_Status_RequestedAt",
                table: "StandingRemovals",
                columns: new[] { "Status", "RequestedAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "StandingRemovals");

            migrationBuilder.RenameColumn(
                name: "TargetId",
                table: "OutboxMessages",
                newName: "ActivationId");

            migrationBuilder.RenameIndex(
                name: "IX_OutboxMessages_TargetId",
                table: "OutboxMessages",
                newName: "IX_OutboxMessages_ActivationId");
        }
    }
}
