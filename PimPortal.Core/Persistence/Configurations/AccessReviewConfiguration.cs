using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class AccessReviewDefinitionConfiguration : IEntityTypeConfiguration<AccessReviewDefinition>
{
    public void Configure(EntityTypeBuilder<AccessReviewDefinition> builder)
    {
        builder.ToTable("AccessReviewDefinitions");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Name).HasMaxLength(AccessReviewDefinition.MaxNameLength);
        builder.Property(d => d.Description).HasMaxLength(AccessReviewDefinition.MaxDescriptionLength);
        builder.Property(d => d.Assignments).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.ReviewerKind).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Frequency).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.End).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.DefaultDecision).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Version).IsConcurrencyToken();
        builder.HasMany(d => d.Roles).WithOne().HasForeignKey(r => r.DefinitionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(d => d.Reviewers).WithOne().HasForeignKey(r => r.DefinitionId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(d => d.Roles).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Navigation(d => d.Reviewers).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Ignore(d => d.Schedule);
        builder.Ignore(d => d.Settings);
    }
}

internal sealed class AccessReviewRoleConfiguration : IEntityTypeConfiguration<AccessReviewRole>
{
    public void Configure(EntityTypeBuilder<AccessReviewRole> builder)
    {
        builder.ToTable("AccessReviewRoles");
        builder.HasKey(r => new { r.DefinitionId, r.RoleId });
        builder.HasOne<PrivilegedRole>().WithMany().HasForeignKey(r => r.RoleId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AccessReviewReviewerConfiguration : IEntityTypeConfiguration<AccessReviewReviewer>
{
    public void Configure(EntityTypeBuilder<AccessReviewReviewer> builder)
    {
        builder.ToTable("AccessReviewReviewers");
        builder.HasKey(r => new { r.DefinitionId, r.PrincipalId });
        builder.HasOne<Principal>().WithMany().HasForeignKey(r => r.PrincipalId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(r => r.PrincipalId);
    }
}

internal sealed class AccessReviewInstanceConfiguration : IEntityTypeConfiguration<AccessReviewInstance>
{
    public void Configure(EntityTypeBuilder<AccessReviewInstance> builder)
    {
        builder.ToTable("AccessReviewInstances");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Id).ValueGeneratedNever();
        builder.Property(i => i.Status).HasConversion<string>().HasMaxLength(16);
        builder.HasOne(i => i.Definition).WithMany().HasForeignKey(i => i.DefinitionId).OnDelete(DeleteBehavior.Restrict);

        // Exactly once: two portal instances opening the same run at once make one row, the other's insert fails.
        builder.HasIndex(i => new { i.DefinitionId, i.Run }).IsUnique();
        builder.HasIndex(i => new { i.Status, i.EndsAt });
        builder.Ignore(i => i.ReminderDueAt);
        builder.Property(i => i.Version).IsConcurrencyToken();
    }
}

internal sealed class AccessReviewItemConfiguration : IEntityTypeConfiguration<AccessReviewItem>
{
    public void Configure(EntityTypeBuilder<AccessReviewItem> builder)
    {
        builder.ToTable("AccessReviewItems");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Id).ValueGeneratedOnAdd();
        builder.Property(i => i.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.PrincipalName).HasMaxLength(256);
        builder.Property(i => i.RoleName).HasMaxLength(256);
        builder.Property(i => i.Scope).HasMaxLength(512);
        builder.Property(i => i.Recommendation).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.RecommendationReason).HasMaxLength(300);
        builder.Property(i => i.Flags).HasConversion<int>();
        builder.Property(i => i.Decision).HasConversion<string>().HasMaxLength(16);
        builder.Property(i => i.DecidedByName).HasMaxLength(256);
        builder.Property(i => i.Reason).HasMaxLength(AccessReviewItem.MaxReasonLength);
        builder.Property(i => i.Outcome).HasMaxLength(500);
        builder.HasOne<AccessReviewInstance>().WithMany().HasForeignKey(i => i.InstanceId).OnDelete(DeleteBehavior.Restrict);

        // A reviewer's page: their lines of one instance in name order; progress counts decisions per instance and
        // reviewer (and, scanning the instance's entries, the instance's tally).
        builder.HasIndex(i => new { i.InstanceId, i.ReviewerId, i.PrincipalName, i.Id });
        builder.HasIndex(i => new { i.InstanceId, i.ReviewerId, i.Decision });
        builder.HasIndex(i => new { i.InstanceId, i.PrincipalName, i.Id });
    }
}
