using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class PrivilegedRoleConfiguration : IEntityTypeConfiguration<PrivilegedRole>
{
    public void Configure(EntityTypeBuilder<PrivilegedRole> builder)
    {
        builder.ToTable("PrivilegedRoles");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Kind).HasConversion<string>().HasMaxLength(32);
        builder.Property(r => r.DisplayName).HasMaxLength(256);
        builder.Property(r => r.ExternalId).HasMaxLength(256);
        builder.Property(r => r.Scope).HasMaxLength(512);
        builder.HasIndex(r => new { r.Kind, r.ExternalId, r.Scope }).IsUnique();
        builder.HasOne(r => r.Settings).WithOne().HasForeignKey<RoleSettings>(s => s.RoleId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(r => r.Settings).IsRequired();
    }
}

internal sealed class RoleSettingsConfiguration : IEntityTypeConfiguration<RoleSettings>
{
    public void Configure(EntityTypeBuilder<RoleSettings> builder)
    {
        builder.ToTable("RoleSettings");
        builder.HasKey(s => s.RoleId);
        builder.HasMany(s => s.Approvers).WithOne().HasForeignKey(a => a.RoleId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(s => s.Approvers).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasMany(s => s.NotificationRules).WithOne().HasForeignKey(r => r.RoleId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(s => s.NotificationRules).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.Property(s => s.Version).IsConcurrencyToken();
    }
}

internal sealed class RoleNotificationRuleConfiguration : IEntityTypeConfiguration<RoleNotificationRule>
{
    public void Configure(EntityTypeBuilder<RoleNotificationRule> builder)
    {
        builder.ToTable("RoleNotificationRules");
        builder.HasKey(r => new { r.RoleId, r.Event });
        builder.Property(r => r.Event).HasConversion<string>().HasMaxLength(32);
        builder.Property(r => r.AdditionalRecipients).HasMaxLength(RoleNotificationRule.MaxRecipientsLength);
        builder.Ignore(r => r.AdditionalAddresses);
        builder.Ignore(r => r.NotifiesAnyone);
    }
}

internal sealed class RoleApproverConfiguration : IEntityTypeConfiguration<RoleApprover>
{
    public void Configure(EntityTypeBuilder<RoleApprover> builder)
    {
        builder.ToTable("RoleApprovers");
        builder.HasKey(a => new { a.RoleId, a.PrincipalId });
        builder.HasOne<Principal>().WithMany().HasForeignKey(a => a.PrincipalId).OnDelete(DeleteBehavior.Cascade);
    }
}
