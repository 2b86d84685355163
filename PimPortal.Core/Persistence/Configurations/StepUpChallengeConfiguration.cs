using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class StepUpChallengeConfiguration : IEntityTypeConfiguration<StepUpChallenge>
{
    public void Configure(EntityTypeBuilder<StepUpChallenge> builder)
    {
        builder.ToTable("StepUpChallenges");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Id).ValueGeneratedNever();
        builder.Property(c => c.Draft).HasMaxLength(StepUpChallenge.MaxDraftLength);
        builder.Property(c => c.Context).HasMaxLength(64);
        builder.Property(c => c.BrowserNonceHash).HasMaxLength(64);
        builder.Property(c => c.Version).IsConcurrencyToken();
        builder.HasOne<Principal>().WithMany().HasForeignKey(c => c.PrincipalId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(c => new { c.PrincipalId, c.CreatedAt });
    }
}
