using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class RoleEligibilityConfiguration : IEntityTypeConfiguration<RoleEligibility>
{
    public void Configure(EntityTypeBuilder<RoleEligibility> builder)
    {
        builder.ToTable("RoleEligibilities");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Scope).HasMaxLength(512);
        builder.HasOne(e => e.Role).WithMany().HasForeignKey(e => e.RoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Principal>().WithMany().HasForeignKey(e => e.PrincipalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(e => new { e.PrincipalId, e.RoleId });
        builder.Ignore(e => e.IsPermanent);
        builder.Property(e => e.Version).IsConcurrencyToken();
        builder.HasIndex(e => new { e.RoleId, e.RemovedAt, e.NotAfter });
        builder.HasIndex(e => new { e.CreatedAt, e.Id });
    }
}
