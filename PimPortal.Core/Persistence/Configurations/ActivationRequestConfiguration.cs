using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class ActivationRequestConfiguration : IEntityTypeConfiguration<ActivationRequest>
{
    public void Configure(EntityTypeBuilder<ActivationRequest> builder)
    {
        builder.ToTable("ActivationRequests");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).ValueGeneratedNever();
        builder.Property(r => r.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Scope).HasMaxLength(512);
        builder.Property(r => r.Justification).HasMaxLength(ActivationRequest.MaxJustificationLength);
        builder.Property(r => r.TicketNumber).HasMaxLength(100);
        builder.Property(r => r.TicketSystem).HasMaxLength(100);
        builder.Property(r => r.ClosedReason).HasMaxLength(ActivationRequest.MaxClosedReasonLength);
        builder.Property(r => r.Version).IsConcurrencyToken();
        builder.HasOne(r => r.Role).WithMany().HasForeignKey(r => r.RoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<RoleEligibility>().WithMany().HasForeignKey(r => r.EligibilityId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Principal>().WithMany().HasForeignKey(r => r.RequesterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(r => r.Decisions).WithOne().HasForeignKey(d => d.RequestId).OnDelete(DeleteBehavior.Cascade);
        builder.Navigation(r => r.Decisions).UsePropertyAccessMode(PropertyAccessMode.Field);
        builder.HasIndex(r => new { r.RequesterId, r.Status });

        // The approvers' queue walks pending requests by deadline (keyset on ExpiresAt, Id); the scheduler by start.
        builder.HasIndex(r => new { r.Status, r.ExpiresAt, r.Id });
        builder.HasIndex(r => new { r.Status, r.RequestedStart });
    }
}

internal sealed class ApprovalDecisionConfiguration : IEntityTypeConfiguration<ApprovalDecision>
{
    public void Configure(EntityTypeBuilder<ApprovalDecision> builder)
    {
        builder.ToTable("ApprovalDecisions");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Id).ValueGeneratedNever();
        builder.Property(d => d.Verdict).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.Reason).HasMaxLength(ActivationRequest.MaxJustificationLength);

        // An approver counts once per request, even when two of their clicks race.
        builder.HasIndex(d => new { d.RequestId, d.ApproverId }).IsUnique();
        builder.HasOne<Principal>().WithMany().HasForeignKey(d => d.ApproverId).OnDelete(DeleteBehavior.Restrict);
    }
}
