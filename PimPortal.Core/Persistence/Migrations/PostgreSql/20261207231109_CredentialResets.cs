using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class CredentialResets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "CredentialsChangedAt",
                table: "Principals",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "CausedBy",
                table: "Alerts",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "CredentialsChangedAt",
                table: "Principals");

            migrationBuilder.DropColumn(
                name: "CausedBy",
                table: "Alerts");
        }
    }
}
