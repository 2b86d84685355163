using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class AccessReviews : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AccessReviewDefinitions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Name = table.Column<string>(type: "nvarchar(200)", maxLength: 200, nullable: false),
                    Description = table.Column<string>(type: "nvarchar(2000)", maxLength: 2000, nullable: true),
                    Assignments = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    OnlyInactiveDays = table.Column<int>(type: "int", nullable: true),
                    RecommendationDays = table.Column<int>(type: "int", nullable: false),
                    ReviewerKind = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Start = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    Frequency = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    DurationDays = table.Column<int>(type: "int", nullable: false),
                    End = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    EndDate = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Runs = table.Column<int>(type: "int", nullable: true),
                    RequireReasonOnApprove = table.Column<bool>(type: "bit", nullable: false),
                    DefaultDecision = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    AutoApply = table.Column<bool>(type: "bit", nullable: false),
                    Reminders = table.Column<bool>(type: "bit", nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    StoppedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    StoppedBy = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    Version = table.Column<Guid>(type: "uniqueidentifier", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessReviewDefinitions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "AccessReviewInstances",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    DefinitionId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Run = table.Column<int>(type: "int", nullable: false),
                    StartsAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    EndsAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: false),
                    Status = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    ItemCount = table.Column<int>(type: "int", nullable: false),
                    ReminderSentAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    CompletedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    AppliedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    AppliedBy = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    Version = table.Column<Guid>(type: "uniqueidentifier", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessReviewInstances", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AccessReviewInstances_AccessReviewDefinitions_DefinitionId",
                        column: x => x.DefinitionId,
                        principalTable: "AccessReviewDefinitions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "AccessReviewReviewers",
                columns: table => new
                {
                    DefinitionId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    PrincipalId = table.Column<Guid>(type: "uniqueidentifier", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessReviewReviewers", x => new { x.DefinitionId, x.PrincipalId });
                    table.ForeignKey(
                        name: "FK_AccessReviewReviewers_AccessReviewDefinitions_DefinitionId",
                        column: x => x.DefinitionId,
                        principalTable: "AccessReviewDefinitions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AccessReviewReviewers_Principals_PrincipalId",
                        column: x => x.PrincipalId,
                        principalTable: "Principals",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "AccessReviewRoles",
                columns: table => new
                {
                    DefinitionId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    RoleId = table.Column<Guid>(type: "uniqueidentifier", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessReviewRoles", x => new { x.DefinitionId, x.RoleId });
                    table.ForeignKey(
                        name: "FK_AccessReviewRoles_AccessReviewDefinitions_DefinitionId",
                        column: x => x.DefinitionId,
                        principalTable: "AccessReviewDefinitions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_AccessReviewRoles_PrivilegedRoles_RoleId",
                        column: x => x.RoleId,
                        principalTable: "PrivilegedRoles",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "AccessReviewItems",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("SqlServer:Identity", "1, 1"),
                    InstanceId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    PrincipalId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    PrincipalName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    RoleId = table.Column<Guid>(type: "uniqueidentifier", nullable: false),
                    RoleName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Scope = table.Column<string>(type: "nvarchar(512)", maxLength: 512, nullable: false),
                    EligibilityId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    ActivationId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    ReviewerId = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    LastActivation = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    ActivationCount = table.Column<int>(type: "int", nullable: false),
                    Recommendation = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    RecommendationReason = table.Column<string>(type: "nvarchar(300)", maxLength: 300, nullable: true),
                    Flags = table.Column<int>(type: "int", nullable: false),
                    Decision = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    DecidedBy = table.Column<Guid>(type: "uniqueidentifier", nullable: true),
                    DecidedByName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: true),
                    DecidedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Reason = table.Column<string>(type: "nvarchar(1000)", maxLength: 1000, nullable: true),
                    AppliedAt = table.Column<DateTimeOffset>(type: "datetimeoffset", nullable: true),
                    Outcome = table.Column<string>(type: "nvarchar(500)", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AccessReviewItems", x => x.Id);
                    table.ForeignKey(
                        name: "FK_AccessReviewItems_AccessReviewInstances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "AccessReviewInstances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewInstances_DefinitionId_Run",
                table: "AccessReviewInstances",
                columns: new[] { "DefinitionId", "Run" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewInstances_Status_EndsAt",
                table: "AccessReviewInstances",
                columns: new[] { "Status", "EndsAt" });

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewItems_InstanceId_PrincipalName_Id",
                table: "AccessReviewItems",
                columns: new[] { "InstanceId", "PrincipalName", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewItems_InstanceId_ReviewerId_Decision",
                table: "AccessReviewItems",
                columns: new[] { "InstanceId", "ReviewerId", "Decision" });

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewItems_InstanceId_ReviewerId_PrincipalName_Id",
                table: "AccessReviewItems",
                columns: new[] { "InstanceId", "ReviewerId", "PrincipalName", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewReviewers_PrincipalId",
                table: "AccessReviewReviewers",
                column: "PrincipalId");

            migrationBuilder.CreateIndex(
                name: "IX_AccessReviewRoles_RoleId",
                table: "AccessReviewRoles",
                column: "RoleId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AccessReviewItems");

            migrationBuilder.DropTable(
                name: "AccessReviewReviewers");

            migrationBuilder.DropTable(
                name: "AccessReviewRoles");

            migrationBuilder.DropTable(
                name: "AccessReviewInstances");

            migrationBuilder.DropTable(
                name: "AccessReviewDefinitions");
        }
    }
}
