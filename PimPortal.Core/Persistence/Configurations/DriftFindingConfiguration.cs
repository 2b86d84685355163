using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class DriftFindingConfiguration : IEntityTypeConfiguration<DriftFinding>
{
    public void Configure(EntityTypeBuilder<DriftFinding> builder)
    {
        builder.ToTable("DriftFindings");
        builder.HasKey(f => f.Id);
        builder.Property(f => f.Id).ValueGeneratedNever();
        builder.Property(f => f.Scope).HasMaxLength(512);
        builder.Property(f => f.Resolution).HasMaxLength(300);
        builder.HasIndex(f => new { f.ResolvedAt, f.PrincipalId, f.RoleId });
        builder.HasOne<PrivilegedRole>().WithMany().HasForeignKey(f => f.RoleId).OnDelete(DeleteBehavior.Cascade);
    }
}
