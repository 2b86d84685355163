using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class RoleActivationConfiguration : IEntityTypeConfiguration<RoleActivation>
{
    public void Configure(EntityTypeBuilder<RoleActivation> builder)
    {
        builder.ToTable("RoleActivations");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(a => a.Scope).HasMaxLength(512);
        builder.Property(a => a.FailureReason).HasMaxLength(2000);
        builder.Property(a => a.Version).IsConcurrencyToken();
        builder.HasOne(a => a.Role).WithMany().HasForeignKey(a => a.RoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<ActivationRequest>().WithMany().HasForeignKey(a => a.RequestId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Principal>().WithMany().HasForeignKey(a => a.PrincipalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(a => new { a.Status, a.NotAfter });
        builder.HasIndex(a => new { a.PrincipalId, a.RoleId, a.CreatedAt });
        builder.HasIndex(a => a.CreatedAt);
        builder.Ignore(a => a.IsOpen);
        builder.Ignore(a => a.IsAssignment);
        builder.Ignore(a => a.IsPermanent);
    }
}
