using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PimPortal.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CredentialResets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "CredentialsChangedAt",
                table: "Principals",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "CausedBy",
                table: "Alerts",
                type: "TEXT",
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
