using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class StandingRemovalConfiguration : IEntityTypeConfiguration<StandingRemoval>
{
    public void Configure(EntityTypeBuilder<StandingRemoval> builder)
    {
        builder.ToTable("StandingRemovals");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Source).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Scope).HasMaxLength(512);
        builder.Property(r => r.Justification).HasMaxLength(ActivationRequest.MaxJustificationLength);
        builder.Property(r => r.RequestedByName).HasMaxLength(256);
        builder.Property(r => r.Error).HasMaxLength(StandingRemoval.MaxErrorLength);

        // The Directory page lists the removals not done yet, and the latest that failed.
        builder.HasIndex(r => new { r.Status, r.RequestedAt });
        builder.HasOne<PrivilegedRole>().WithMany().HasForeignKey(r => r.RoleId).OnDelete(DeleteBehavior.Cascade);
    }
}
