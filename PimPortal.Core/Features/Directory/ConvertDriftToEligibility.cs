using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// A PIM administrator turns an "assigned outside the portal" alert into an eligibility: the holder becomes eligible
/// for the role (permanently, unless they already were) and the standing assignment is removed from the directory —
/// standing access becomes just-in-time access. Audited.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record ConvertDriftToEligibility(Guid FindingId, string? Justification) : ICommand<ConversionResult>;

/// <param name="Removed">Whether the directory confirmed the standing assignment is gone.</param>
/// <param name="Error">Why it is not gone yet (the alert stays until it is).</param>
public sealed record ConversionResult(Guid EligibilityId, bool Removed, string? Error);

public sealed class ConvertDriftToEligibilityValidator : AbstractValidator<ConvertDriftToEligibility>
{
    public ConvertDriftToEligibilityValidator()
    {
        RuleFor(x => x.FindingId).NotEmpty().WithMessage("Choose the alert to convert.");
        RuleFor(x => x.Justification).NotEmpty().WithMessage("Say why (it is kept in the audit trail).")
            .MaximumLength(ActivationRequest.MaxJustificationLength).WithMessage($"At most {ActivationRequest.MaxJustificationLength} characters.");
    }
}

public sealed class ConvertDriftToEligibilityHandler(
    IDbContextFactory<PimDbContext> dbFactory,
    RequestContext context,
    IDirectoryGateway gateway,
    TimeProvider time,
    PortalEvents events)
    : ICommandHandler<ConvertDriftToEligibility, ConversionResult>
{
    public async ValueTask<ConversionResult> Handle(ConvertDriftToEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var me = context.Actor.PrincipalId;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var finding = await db.DriftFindings.SingleOrDefaultAsync(f => f.Id == command.FindingId && f.ResolvedAt == null, cancellationToken)
            ?? throw new NotFoundException("That alert does not exist or is already resolved.");
        var role = await db.PrivilegedRoles.AsNoTracking().Include(r => r.Settings).SingleAsync(r => r.Id == finding.RoleId, cancellationToken);

        // The alert may be older than the last activation: never remove what a grant of the portal holds now.
        await StandingAccess.RefuseIfActivatedAsync(db, finding.PrincipalId, finding.RoleId, finding.Scope, cancellationToken);
        var holder = new StandingAccess.Holder(finding.Id, finding.PrincipalId, role, finding.Scope, finding.FirstSeenAt);
        var eligibility = await StandingAccess.EnsureEligibleAsync(db, context, holder, null, command.Justification, "converted from a standing assignment", now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);

        // Then the standing assignment goes (keyed by the alert: a removal of a grant the portal never made).
        var result = (await StandingAccess.RemoveAsync(gateway, [holder], now)).Single();
        var removed = result.Outcome == DirectoryChangeOutcome.Done;
        if (removed)
        {
            finding.Resolve(now, $"converted to an eligibility by {context.Actor.DisplayName}");
        }

        db.AuditEvents.Add(context.Audit(now, removed ? AuditActions.DriftResolved : AuditActions.DriftConversionFailed, "drift", finding.Id.ToString(),
            removed ? AuditOutcome.Success : AuditOutcome.Failed,
            new { role = role.DisplayName, eligibility = eligibility.Id, justification = command.Justification?.Trim(), error = result.Error }, finding.PrincipalId, finding.RoleId));
        await db.SaveChangesAsync(CancellationToken.None);
        events.RolesChanged([finding.PrincipalId]);
        return new ConversionResult(eligibility.Id, removed, removed ? null : result.Error ?? result.Outcome.ToString());
    }
}
