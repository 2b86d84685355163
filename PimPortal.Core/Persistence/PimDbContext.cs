using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Persistence;

/// <summary>
/// The portal's database: the PIM domain, the embedded directory, the audit trail, the outbox and (embedded default)
/// the local accounts. One derived context per provider carries that provider's migrations.
/// </summary>
public abstract class PimDbContext(DbContextOptions options)
    : IdentityDbContext<PortalUser, IdentityRole<Guid>, Guid>(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring every instance shares (cookies, antiforgery, circuits), each key encrypted at rest when a certificate is configured.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Principal> Principals => Set<Principal>();

    public DbSet<GroupMembership> GroupMemberships => Set<GroupMembership>();

    public DbSet<PrivilegedRole> PrivilegedRoles => Set<PrivilegedRole>();

    public DbSet<RoleSettings> RoleSettings => Set<RoleSettings>();

    public DbSet<RoleEligibility> Eligibilities => Set<RoleEligibility>();

    public DbSet<ActivationRequest> ActivationRequests => Set<ActivationRequest>();

    public DbSet<ApprovalDecision> ApprovalDecisions => Set<ApprovalDecision>();

    public DbSet<RoleApprover> RoleApprovers => Set<RoleApprover>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<StepUpChallenge> StepUpChallenges => Set<StepUpChallenge>();

    public DbSet<DriftFinding> DriftFindings => Set<DriftFinding>();

    public DbSet<StandingRemoval> StandingRemovals => Set<StandingRemoval>();

    public DbSet<RoleActivation> Activations => Set<RoleActivation>();

    public DbSet<Alert> Alerts => Set<Alert>();

    public DbSet<RoleNotificationRule> RoleNotificationRules => Set<RoleNotificationRule>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<AuditCheckpoint> AuditCheckpoints => Set<AuditCheckpoint>();

    public DbSet<AuditPrune> AuditPrunes => Set<AuditPrune>();

    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    public DbSet<MfaState> MfaStates => Set<MfaState>();

    public DbSet<DirectoryAssignment> DirectoryAssignments => Set<DirectoryAssignment>();

    public DbSet<AccessReviewDefinition> AccessReviewDefinitions => Set<AccessReviewDefinition>();

    public DbSet<AccessReviewInstance> AccessReviewInstances => Set<AccessReviewInstance>();

    public DbSet<AccessReviewItem> AccessReviewItems => Set<AccessReviewItem>();

    /// <summary>
    /// The enabled groups <paramref name="principalId"/> is a member of, as a query to compose (capture it in a variable,
    /// then use it inside another query): through them a principal holds what the group is eligible for, and approves
    /// what the group is named to approve. A disabled group gives nothing.
    /// </summary>
    public IQueryable<Guid> EnabledGroupsOf(Guid principalId) =>
        GroupMemberships.Where(m => m.MemberId == principalId && Principals.Any(g => g.Id == m.GroupId && g.IsEnabled)).Select(m => m.GroupId);

    /// <summary>Quotes an identifier for raw SQL (index filters) in this provider's dialect.</summary>
    internal abstract string Quote(string identifier);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);

        // Durations as ticks everywhere: SQL Server's time type stops short of 24 hours, the longest activation.
        configurationBuilder.Properties<TimeSpan>().HaveConversion<long>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PimDbContext).Assembly, t => t.Namespace == typeof(PimDbContext).Namespace + ".Configurations");

        // Partial unique indexes: at most one open grant, and one waiting (pending or scheduled) request of each kind,
        // per principal, role and scope. They make a double click or two racing tabs produce exactly one.
        var openStatuses = string.Join(", ", RoleActivation.OpenStatuses.Select(s => $"'{s}'"));
        builder.Entity<RoleActivation>()
            .HasIndex(a => new { a.PrincipalId, a.RoleId, a.Scope })
            .IsUnique()
            .HasFilter($"{Quote(nameof(RoleActivation.Status))} IN ({openStatuses})")
            .HasDatabaseName("UX_Activations_OneOpenPerRoleAndScope");
        builder.Entity<ActivationRequest>()
            .HasIndex(r => new { r.RequesterId, r.RoleId, r.Scope, r.Kind })
            .IsUnique()
            .HasFilter($"{Quote(nameof(ActivationRequest.Status))} IN ({string.Join(", ", ActivationRequest.WaitingStatuses.Select(s => $"'{s}'"))})")
            .HasDatabaseName("UX_Requests_OnePendingPerRoleAndScope");

        // One current eligibility per principal, role and scope (not removed, its end not yet recorded): two
        // administrators assigning the same at once, or an assignment racing a rollout, give one.
        builder.Entity<RoleEligibility>()
            .HasIndex(e => new { e.PrincipalId, e.RoleId, e.Scope })
            .IsUnique()
            .HasFilter($"{Quote(nameof(RoleEligibility.RemovedAt))} IS NULL AND {Quote(nameof(RoleEligibility.EndRecordedAt))} IS NULL")
            .HasDatabaseName("UX_Eligibilities_OneCurrent");

        // One open alert per condition: two instances evaluating at once cannot raise it twice.
        builder.Entity<Alert>()
            .HasIndex(a => a.Key)
            .IsUnique()
            .HasFilter($"{Quote(nameof(Alert.ResolvedAt))} IS NULL")
            .HasDatabaseName("UX_Alerts_OneOpenPerKey");
    }
}
