using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("OutboxMessages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Id).ValueGeneratedNever();
        builder.Property(m => m.Type).HasConversion<string>().HasMaxLength(32);
        // The claim is the concurrency token: a worker whose lease ran out (another took the message) cannot record it.
        builder.Property(m => m.LockedBy).HasMaxLength(128).IsConcurrencyToken();
        builder.Property(m => m.LastError).HasMaxLength(2000);
        builder.HasIndex(m => new { m.ProcessedAt, m.DueAt });
        builder.HasIndex(m => m.TargetId);
    }
}

internal sealed class MfaStateConfiguration : IEntityTypeConfiguration<MfaState>
{
    public void Configure(EntityTypeBuilder<MfaState> builder)
    {
        builder.ToTable("MfaStates");
        builder.HasKey(s => s.PrincipalId);

        // Two requests racing on one state (the same code twice, parallel guesses): the second one's save fails and it
        // decides again from the new state.
        builder.Property(s => s.Version).IsConcurrencyToken();
        builder.Property(s => s.LastVerifiedSession).HasMaxLength(128);
        builder.HasOne<Principal>().WithMany().HasForeignKey(s => s.PrincipalId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DirectoryAssignmentConfiguration : IEntityTypeConfiguration<DirectoryAssignment>
{
    public void Configure(EntityTypeBuilder<DirectoryAssignment> builder)
    {
        builder.ToTable("DirectoryAssignments");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Scope).HasMaxLength(512);

        // The activation id is the idempotency key of a grant: writing it twice leaves one assignment.
        builder.HasIndex(a => a.ActivationId).IsUnique();
        builder.HasIndex(a => new { a.RoleId, a.PrincipalId });
        builder.HasOne<Principal>().WithMany().HasForeignKey(a => a.PrincipalId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<PrivilegedRole>().WithMany().HasForeignKey(a => a.RoleId).OnDelete(DeleteBehavior.Cascade);
    }
}
