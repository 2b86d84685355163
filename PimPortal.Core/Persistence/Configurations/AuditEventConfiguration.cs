using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence.Configurations;

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable("AuditEvents");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.Property(e => e.ActorName).HasMaxLength(256);
        builder.Property(e => e.Action).HasMaxLength(64);
        builder.Property(e => e.TargetType).HasMaxLength(64);
        builder.Property(e => e.TargetId).HasMaxLength(128);
        builder.Property(e => e.Outcome).HasConversion<string>().HasMaxLength(16);
        builder.Property(e => e.ClientAddress).HasMaxLength(64);
        builder.Property(e => e.UserAgent).HasMaxLength(512);
        builder.Property(e => e.CorrelationId).HasMaxLength(64);
        builder.HasIndex(e => e.OccurredAt);
        builder.HasIndex(e => new { e.TargetType, e.TargetId });
        builder.Property(e => e.ChainHash).HasMaxLength(32);

        // The audit page filters by one of these and pages newest first on the id: each index serves both.
        builder.HasIndex(e => new { e.SubjectId, e.Id });
        builder.HasIndex(e => new { e.ActorId, e.Id });
        builder.HasIndex(e => new { e.RoleId, e.Id });
        builder.HasIndex(e => new { e.Action, e.Id });
        builder.HasIndex(e => new { e.Outcome, e.Id });
    }
}

internal sealed class AuditCheckpointConfiguration : IEntityTypeConfiguration<AuditCheckpoint>
{
    public void Configure(EntityTypeBuilder<AuditCheckpoint> builder)
    {
        builder.ToTable("AuditCheckpoints");
        builder.HasKey(c => c.Sequence);
        builder.Property(c => c.Sequence).ValueGeneratedNever();
        builder.Property(c => c.PreviousHash).HasMaxLength(32);
        builder.Property(c => c.Hash).HasMaxLength(32);
        builder.HasIndex(c => c.LastEventId).IsUnique();
    }
}

internal sealed class AuditPruneConfiguration : IEntityTypeConfiguration<AuditPrune>
{
    public void Configure(EntityTypeBuilder<AuditPrune> builder)
    {
        builder.ToTable("AuditPrunes");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Id).ValueGeneratedOnAdd();
        builder.Property(p => p.BoundaryHash).HasMaxLength(32);
        builder.Property(p => p.ArchiveFile).HasMaxLength(260);
        builder.Property(p => p.ArchiveSha256).HasMaxLength(64);
        builder.HasIndex(p => p.AfterEventId).IsUnique();
    }
}
