using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CurrentEligibility : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_RoleEligibilities_RoleId_NotAfter",
                table: "RoleEligibilities");

            migrationBuilder.CreateIndex(
                name: "IX_RoleEligibilities_RoleId_RemovedAt_NotAfter",
                table: "RoleEligibilities",
                columns: new[] { "RoleId", "RemovedAt", "NotAfter" });

            // Before "one current eligibility" holds: an eligibility superseded by a newer one for the same principal,
            // role and scope (an ended one followed by a new one) has its end recorded, so the index can be created.
            migrationBuilder.Sql(
                """
                UPDATE "RoleEligibilities" SET "EndRecordedAt" = COALESCE("NotAfter", "CreatedAt")
                WHERE "RemovedAt" IS NULL AND "EndRecordedAt" IS NULL AND EXISTS (
                    SELECT 1 FROM "RoleEligibilities" AS newer
                    WHERE newer."PrincipalId" = "RoleEligibilities"."PrincipalId" AND newer."RoleId" = "RoleEligibilities"."RoleId"
                        AND newer."Scope" = "RoleEligibilities"."Scope" AND newer."RemovedAt" IS NULL AND newer."CreatedAt" > "RoleEligibilities"."CreatedAt")
                """);

            migrationBuilder.CreateIndex(
                name: "UX_Eligibilities_OneCurrent",
                table: "RoleEligibilities",
                columns: new[] { "PrincipalId", "RoleId", "Scope" },
                unique: true,
                filter: "\"RemovedAt\" IS NULL AND \"EndRecordedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_RoleEligibilities_RoleId_RemovedAt_NotAfter",
                table: "RoleEligibilities");

            migrationBuilder.DropIndex(
                name: "UX_Eligibilities_OneCurrent",
                table: "RoleEligibilities");

            migrationBuilder.CreateIndex(
                name: "IX_RoleEligibilities_RoleId_NotAfter",
                table: "RoleEligibilities",
                columns: new[] { "RoleId", "NotAfter" });
        }
    }
}
