using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.SqlServer
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
                type: "datetimeoffset",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "CausedBy",
                table: "Alerts",
                type: "uniqueidentifier",
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
