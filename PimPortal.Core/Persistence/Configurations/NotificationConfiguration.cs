using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> builder)
    {
        builder.ToTable("Notifications");
        builder.HasKey(n => n.Id);
        builder.Property(n => n.Id).ValueGeneratedNever();
        builder.Property(n => n.Kind).HasConversion<string>().HasMaxLength(32);
        builder.Property(n => n.Subject).HasMaxLength(200);
        builder.Property(n => n.Body).HasMaxLength(4000);
        builder.Property(n => n.Link).HasMaxLength(256);
        builder.Property(n => n.EmailTo).HasMaxLength(256);
        builder.Property(n => n.EmailStatus).HasConversion<string>().HasMaxLength(16);
        builder.Property(n => n.EmailError).HasMaxLength(1000);
        builder.Property(n => n.Version).IsConcurrencyToken();
        builder.HasOne<Principal>().WithMany().HasForeignKey(n => n.RecipientId).IsRequired(false).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(n => new { n.RecipientId, n.CreatedAt });
        builder.HasIndex(n => new { n.EmailStatus, n.EmailDueAt });

        // The change feed reads the newest notifications every second.
        builder.HasIndex(n => n.CreatedAt);
    }
}
