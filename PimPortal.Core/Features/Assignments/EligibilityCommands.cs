using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Assignments;

/// <summary>
/// A PIM administrator makes a user or group eligible for a role from <paramref name="Start"/> (now when null) until
/// <paramref name="End"/> (permanent when null), as the role's eligibility rules allow. A group's eligibility applies
/// to its members. Audited; the role's notification rules are followed.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record AssignEligibility(Guid PrincipalId, Guid RoleId, DateTimeOffset? Start, DateTimeOffset? End, string? Justification) : ICommand<Guid>;

/// <summary>A PIM administrator removes an eligibility; any activation made from it is revoked at once. Audited.</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record RemoveEligibility(Guid EligibilityId, string? Justification) : ICommand;

/// <summary>
/// A PIM administrator moves the end of an eligibility that has not ended yet later (<paramref name="NewEnd"/> null:
/// permanent, where allowed). Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ExtendEligibility(Guid EligibilityId, DateTimeOffset? NewEnd, string? Justification) : ICommand;

/// <summary>
/// A PIM administrator renews an eligibility that has ended: a new one from now until <paramref name="NewEnd"/>, for the
/// same principal, role and scope. Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record RenewEligibility(Guid EligibilityId, DateTimeOffset? NewEnd, string? Justification) : ICommand<Guid>;

internal static class AssignmentRules
{
    public const string JustificationMissing = "Say why (it is kept in the audit trail).";

    public static void Justification<T>(AbstractValidator<T> validator, System.Linq.Expressions.Expression<Func<T, string?>> field) =>
        validator.RuleFor(field).Must(j => !string.IsNullOrWhiteSpace(j)).WithMessage(JustificationMissing)
            .MaximumLength(ActivationRequest.MaxJustificationLength).WithMessage($"At most {ActivationRequest.MaxJustificationLength} characters.");

    /// <summary>A start given "now" a moment late still means now (a form that sat open).</summary>
    public static DateTimeOffset StartOf(DateTimeOffset? start, DateTimeOffset now) =>
        start is { } s && s > now ? s : now;

    public static void RefuseTooLateStart(DateTimeOffset? start, DateTimeOffset now)
    {
        if (start is { } s && s < now - Policy.ActivationPolicy.StartTolerance)
        {
            throw new DomainRuleException($"The start {s:u} is in the past; choose now or a later time.");
        }
    }

    /// <summary>The principals whose My roles page shows <paramref name="principalId"/>'s eligibilities: itself, or a group's members.</summary>
    public static async Task<IReadOnlyList<Guid>> AffectedAsync(PimDbContext db, Guid principalId, CancellationToken cancellationToken) =>
        [principalId, .. await db.GroupMemberships.AsNoTracking().Where(m => m.GroupId == principalId).Select(m => m.MemberId).ToListAsync(cancellationToken)];

    /// <summary>
    /// Separation of duties: an administrator does not give roles to themselves, directly or through a group they are
    /// in — another PIM administrator does, and the audit trail shows who.
    /// </summary>
    public static async Task RefuseSelfAsync(PimDbContext db, RequestContext context, Guid principalId, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        if (principalId == me || await db.GroupMemberships.AnyAsync(m => m.GroupId == principalId && m.MemberId == me, cancellationToken))
        {
            throw new ForbiddenException("You cannot assign roles to yourself or to a group you are in; ask another PIM administrator.");
        }
    }

    /// <summary>
    /// The principal and role of a new assignment: both must exist, the principal may not be the actor (or a group the
    /// actor is in), and it must be enabled (<paramref name="disabledMessage"/> says why not, after its name).
    /// </summary>
    public static async Task<(Principal Principal, PrivilegedRole Role)> LoadTargetAsync(
        PimDbContext db, RequestContext context, Guid principalId, Guid roleId, string disabledMessage, CancellationToken cancellationToken)
    {
        var principal = await db.Principals.AsNoTracking().SingleOrDefaultAsync(p => p.Id == principalId, cancellationToken)
            ?? throw new NotFoundException("That user or group is not in the directory.");
        await RefuseSelfAsync(db, context, principal.Id, cancellationToken);
        if (!principal.IsEnabled)
        {
            throw new DomainRuleException($"{principal.DisplayName} {disabledMessage}");
        }

        var role = await db.PrivilegedRoles.AsNoTracking().Include(r => r.Settings).SingleOrDefaultAsync(r => r.Id == roleId, cancellationToken)
            ?? throw new NotFoundException("That role does not exist.");
        return (principal, role);
    }

    /// <summary>
    /// Records the end of the principal's ended eligibilities for the role whose end the worker has not recorded yet
    /// (audited), so a new one can be current (one current eligibility per principal, role and scope).
    /// </summary>
    public static async Task RecordEndedAsync(PimDbContext db, Guid principalId, Guid roleId, string scope, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ended = await db.Eligibilities.Include(e => e.Role)
            .Where(e => e.PrincipalId == principalId && e.RoleId == roleId && e.Scope == scope && e.RemovedAt == null && e.EndRecordedAt == null
                && e.NotAfter != null && e.NotAfter <= now)
            .ToListAsync(cancellationToken);
        foreach (var eligibility in ended)
        {
            eligibility.EndRecorded(now);
            db.AuditEvents.Add(AuditFactory.Create(Actor.System, ClientInfo.Unknown, now, AuditActions.EligibilityEnded, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                new { role = eligibility.Role.DisplayName, notAfter = eligibility.NotAfter }, eligibility.PrincipalId, eligibility.RoleId));
        }
    }

    /// <summary>Saves a new eligibility; one that raced another for the same principal, role and scope is refused.</summary>
    public static async Task SaveNewAsync(PimDbContext db, string who, string role, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            throw new DomainRuleException($"{who} is already eligible for {role}; extend that eligibility instead.");
        }
    }

    public static string Describe(Principal principal) => principal.Kind == PrincipalKind.Group ? $"{principal.DisplayName} (group)" : principal.DisplayName;
}

public sealed class AssignEligibilityValidator : AbstractValidator<AssignEligibility>
{
    public AssignEligibilityValidator()
    {
        RuleFor(x => x.PrincipalId).NotEmpty().WithMessage("Choose a user or group.");
        RuleFor(x => x.RoleId).NotEmpty().WithMessage("Choose a role.");
        RuleFor(x => x).Must(x => x.End is not { } end || end > (x.Start ?? DateTimeOffset.MinValue)).WithName("End").WithMessage("The end must be after the start.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class RemoveEligibilityValidator : AbstractValidator<RemoveEligibility>
{
    public RemoveEligibilityValidator()
    {
        RuleFor(x => x.EligibilityId).NotEmpty().WithMessage("Choose the eligibility.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class ExtendEligibilityValidator : AbstractValidator<ExtendEligibility>
{
    public ExtendEligibilityValidator()
    {
        RuleFor(x => x.EligibilityId).NotEmpty().WithMessage("Choose the eligibility.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

public sealed class RenewEligibilityValidator : AbstractValidator<RenewEligibility>
{
    public RenewEligibilityValidator()
    {
        RuleFor(x => x.EligibilityId).NotEmpty().WithMessage("Choose the eligibility.");
        AssignmentRules.Justification(this, x => x.Justification);
    }
}

/// <summary>What removing one eligibility touched, for the signals and page events after commit.</summary>
internal sealed record EligibilityRemoved(Guid PrincipalId, IReadOnlyList<Guid> Requesters, IReadOnlyList<Guid> Retired);

/// <summary>
/// Removing an eligibility, the one way: by a PIM administrator (<see cref="RemoveEligibility"/>) or by an access review's
/// denial. The caller saves; after commit <see cref="AnnounceAsync"/> wakes the workers and open pages.
/// </summary>
internal static class EligibilityRemoval
{
    /// <summary>
    /// Marks the eligibility removed with its audit event (<paramref name="review"/>: the access review decision that
    /// removed it, kept in the event), and lapses the requests made from it that wait for approval or their start.
    /// </summary>
    public static async Task<EligibilityRemoved> RemoveAsync(
        PimDbContext db, Notifier notifier, RoleEligibility eligibility, Actor actor, ClientInfo client, string? justification, object? review,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        eligibility.Remove(now, actor.IsSystem ? null : actor.PrincipalId);
        db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.EligibilityRemoved, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            review is null
                ? new { role = eligibility.Role.DisplayName, scope = eligibility.Scope, justification }
                : (object)new { role = eligibility.Role.DisplayName, scope = eligibility.Scope, justification, review },
            eligibility.PrincipalId, eligibility.RoleId));

        // Requests made from it that wait for approval or their start can no longer be carried out: they lapse now,
        // rather than sit in the approvers' queue.
        var waiting = await db.ActivationRequests
            .Where(r => r.EligibilityId == eligibility.Id && (r.Status == ActivationRequestStatus.Pending || r.Status == ActivationRequestStatus.Scheduled))
            .ToListAsync(cancellationToken);
        foreach (var request in waiting)
        {
            request.Lapse("Nothing was granted: the eligibility was removed.", now);
            db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.RequestLapsed, "request", request.Id.ToString(), AuditOutcome.Success,
                new { reason = "the eligibility was removed", kind = request.Kind.ToString() }, request.RequesterId, request.RoleId));
            await notifier.RequestClosedAsync(db, request, eligibility.Role.DisplayName, "not carried out", "The eligibility it was made from was removed.", cancellationToken);
        }

        var retired = waiting.Count == 0 ? [] : await Notifier.RetireApprovalRequestsAsync(db, [.. waiting.Select(r => r.Id)], now, cancellationToken);
        return new EligibilityRemoved(eligibility.PrincipalId, [.. waiting.Select(r => r.RequesterId)], retired);
    }

    /// <summary>After commit: activations made from removed eligibilities end now (the expiry worker revokes them), pages re-read.</summary>
    public static async Task AnnounceAsync(PimDbContext db, JobSignals signals, PortalEvents events, IReadOnlyCollection<EligibilityRemoved> removals, CancellationToken cancellationToken)
    {
        if (removals.Count == 0)
        {
            return;
        }

        signals.Expiry.Set();
        var affected = new List<Guid>();
        foreach (var principal in removals.Select(r => r.PrincipalId).Distinct())
        {
            affected.AddRange(await AssignmentRules.AffectedAsync(db, principal, cancellationToken));
        }

        events.RolesChanged([.. affected, .. removals.SelectMany(r => r.Requesters)]);
        if (removals.Any(r => r.Requesters.Count > 0))
        {
            signals.Mail.Set();
            events.ApprovalsChanged();
            events.NotificationsChanged([.. removals.SelectMany(r => r.Requesters), .. removals.SelectMany(r => r.Retired)]);
        }
    }
}

public sealed class EligibilityCommandHandlers(
    IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, PortalEvents events, JobSignals signals, Notifier notifier)
    : ICommandHandler<AssignEligibility, Guid>,
      ICommandHandler<RemoveEligibility>,
      ICommandHandler<ExtendEligibility>,
      ICommandHandler<RenewEligibility, Guid>
{
    public async ValueTask<Guid> Handle(AssignEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        AssignmentRules.RefuseTooLateStart(command.Start, now);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (principal, role) = await AssignmentRules.LoadTargetAsync(db, context, command.PrincipalId, command.RoleId,
            "is disabled; enable the account before making it eligible.", cancellationToken);
        var start = AssignmentRules.StartOf(command.Start, now);
        role.Settings.CheckAssignmentWindow(active: false, start, command.End);

        // One valid eligibility per principal, role and scope: a second would only blur who may do what.
        if (await db.Eligibilities.AnyAsync(e => e.PrincipalId == principal.Id && e.RoleId == role.Id && e.Scope == role.Scope && e.RemovedAt == null
                && (e.NotAfter == null || e.NotAfter > now), cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} is already eligible for {role.DisplayName}; extend that eligibility instead.");
        }

        await AssignmentRules.RecordEndedAsync(db, principal.Id, role.Id, role.Scope, now, cancellationToken);
        var eligibility = new RoleEligibility(Guid.NewGuid(), principal.Id, role.Id, role.Scope, start, command.End, context.Actor.PrincipalId, now);
        db.Eligibilities.Add(eligibility);
        db.AuditEvents.Add(context.Audit(now, AuditActions.EligibilityCreated, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            new { principal = AssignmentRules.Describe(principal), role = role.DisplayName, scope = role.Scope, notBefore = start, notAfter = command.End, justification = command.Justification?.Trim() },
            principal.Id, role.Id));
        var notified = await notifier.RoleEventAsync(db, role.Id, RoleNotificationEvent.EligibilityAssigned, principal.Id,
            $"{AssignmentRules.Describe(principal)} is now eligible for {role.DisplayName}",
            $"{context.Actor.DisplayName} made {AssignmentRules.Describe(principal)} eligible for {role.DisplayName} ({role.Scope}) from {start:u} {(command.End is { } end ? $"until {end:u}" : "permanently")}.\nJustification: {command.Justification?.Trim()}",
            "/", cancellationToken);
        await AssignmentRules.SaveNewAsync(db, principal.DisplayName, role.DisplayName, cancellationToken);
        signals.Mail.Set();
        events.RolesChanged(await AssignmentRules.AffectedAsync(db, principal.Id, cancellationToken));
        events.NotificationsChanged(notified);
        return eligibility.Id;
    }

    public async ValueTask<Unit> Handle(RemoveEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var eligibility = await LoadAsync(db, command.EligibilityId, cancellationToken);
        var removal = await EligibilityRemoval.RemoveAsync(db, notifier, eligibility, context.Actor, context.Client, command.Justification?.Trim(), null, now, cancellationToken);
        await SaveAsync(db, cancellationToken);
        await EligibilityRemoval.AnnounceAsync(db, signals, events, [removal], cancellationToken);
        return Unit.Value;
    }

    public async ValueTask<Unit> Handle(ExtendEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var eligibility = await LoadAsync(db, command.EligibilityId, cancellationToken);
        await AssignmentRules.RefuseSelfAsync(db, context, eligibility.PrincipalId, cancellationToken);
        var before = eligibility.NotAfter;
        eligibility.Role.Settings.CheckAssignmentWindow(active: false, now, command.NewEnd);
        eligibility.ExtendTo(command.NewEnd, now);
        db.AuditEvents.Add(context.Audit(now, AuditActions.EligibilityExtended, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
            new { role = eligibility.Role.DisplayName, scope = eligibility.Scope, before, after = command.NewEnd, justification = command.Justification?.Trim() },
            eligibility.PrincipalId, eligibility.RoleId));
        await SaveAsync(db, cancellationToken);
        events.RolesChanged(await AssignmentRules.AffectedAsync(db, eligibility.PrincipalId, cancellationToken));
        return Unit.Value;
    }

    public async ValueTask<Guid> Handle(RenewEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ended = await LoadAsync(db, command.EligibilityId, cancellationToken);
        await AssignmentRules.RefuseSelfAsync(db, context, ended.PrincipalId, cancellationToken);
        if (ended.RemovedAt is null && (ended.NotAfter is null || ended.NotAfter > now))
        {
            throw new DomainRuleException("This eligibility has not ended; extend it instead.");
        }

        var principal = await db.Principals.AsNoTracking().SingleAsync(p => p.Id == ended.PrincipalId, cancellationToken);
        if (!principal.IsEnabled)
        {
            throw new DomainRuleException($"{principal.DisplayName} is disabled; enable the account before renewing.");
        }

        if (await db.Eligibilities.AnyAsync(e => e.PrincipalId == ended.PrincipalId && e.RoleId == ended.RoleId && e.Scope == ended.Scope && e.RemovedAt == null
                && (e.NotAfter == null || e.NotAfter > now), cancellationToken))
        {
            throw new DomainRuleException($"{principal.DisplayName} is eligible for {ended.Role.DisplayName} again already.");
        }

        ended.Role.Settings.CheckAssignmentWindow(active: false, now, command.NewEnd);
        await AssignmentRules.RecordEndedAsync(db, ended.PrincipalId, ended.RoleId, ended.Scope, now, cancellationToken);
        var renewed = new RoleEligibility(Guid.NewGuid(), ended.PrincipalId, ended.RoleId, ended.Scope, now, command.NewEnd, context.Actor.PrincipalId, now);
        db.Eligibilities.Add(renewed);
        db.AuditEvents.Add(context.Audit(now, AuditActions.EligibilityRenewed, "eligibility", renewed.Id.ToString(), AuditOutcome.Success,
            new { role = ended.Role.DisplayName, scope = ended.Scope, renews = ended.Id, notAfter = command.NewEnd, justification = command.Justification?.Trim() },
            ended.PrincipalId, ended.RoleId));
        await AssignmentRules.SaveNewAsync(db, principal.DisplayName, ended.Role.DisplayName, cancellationToken);
        events.RolesChanged(await AssignmentRules.AffectedAsync(db, ended.PrincipalId, cancellationToken));
        return renewed.Id;
    }

    private static async Task<RoleEligibility> LoadAsync(PimDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Eligibilities.Include(e => e.Role).ThenInclude(r => r.Settings).SingleOrDefaultAsync(e => e.Id == id, cancellationToken)
        ?? throw new NotFoundException("That eligibility does not exist.");

    private static async Task SaveAsync(PimDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("Someone changed this eligibility at the same moment; reload to see it.");
        }
    }
}
