using System.Linq.Expressions;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Assignments;

/// <summary>What every assignment command of a PIM administrator checks: the justification, the target, separation of duties.</summary>
internal static class AssignmentRules
{
    public const string JustificationMissing = "Say why (it is kept in the audit trail).";

    public static void Justification<T>(AbstractValidator<T> validator, Expression<Func<T, string?>> field) =>
        validator.RuleFor(field).Must(j => !string.IsNullOrWhiteSpace(j)).WithMessage(JustificationMissing)
            .MaximumLength(ActivationRequest.MaxJustificationLength).WithMessage($"At most {ActivationRequest.MaxJustificationLength} characters.");

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
        var groups = await db.GroupMemberships.AsNoTracking().Where(m => m.MemberId == me && m.GroupId == principalId).Select(m => m.GroupId).ToListAsync(cancellationToken);
        if (SeparationOfDuties.IsOwn(me, groups, principalId))
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

    /// <summary>An eligibility with its role and settings, tracked.</summary>
    public static async Task<RoleEligibility> LoadEligibilityAsync(PimDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Eligibilities.Include(e => e.Role).ThenInclude(r => r.Settings).SingleOrDefaultAsync(e => e.Id == id, cancellationToken)
        ?? throw new NotFoundException("That eligibility does not exist.");

    /// <summary>Whether the principal holds a current eligibility for the role at the scope.</summary>
    public static Task<bool> HasCurrentAsync(PimDbContext db, Guid principalId, Guid roleId, string scope, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.Eligibilities.Where(RoleEligibility.Current.At(now)).AnyAsync(e => e.PrincipalId == principalId && e.RoleId == roleId && e.Scope == scope, cancellationToken);

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

    /// <summary>Saves a change to an existing eligibility; a concurrent change to it is reported, not overwritten.</summary>
    public static async Task SaveChangeAsync(PimDbContext db, CancellationToken cancellationToken)
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
