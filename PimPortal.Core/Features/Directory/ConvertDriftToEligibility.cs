using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Directory;
using PimPortal.Core.Domain;
using PimPortal.Core.Jobs;
using PimPortal.Core.Persistence;

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
        var role = await db.PrivilegedRoles.AsNoTracking().SingleAsync(r => r.Id == finding.RoleId, cancellationToken);

        // The alert may be older than the last activation: never remove what a grant of the portal holds now.
        if (await db.Activations.AnyAsync(a => a.PrincipalId == finding.PrincipalId && a.RoleId == finding.RoleId && a.Scope == finding.Scope
                && a.RemovedFromDirectoryAt == null && a.Status != ActivationStatus.Failed, cancellationToken))
        {
            throw new RefusedException("An activation of the portal holds this role now; convert the alert after it has ended and been removed.");
        }

        var eligibility = await db.Eligibilities.FirstOrDefaultAsync(e => e.PrincipalId == finding.PrincipalId && e.RoleId == finding.RoleId && e.Scope == finding.Scope
            && e.RemovedAt == null && (e.NotAfter == null || e.NotAfter > now), cancellationToken);
        if (eligibility is null)
        {
            eligibility = new RoleEligibility(Guid.NewGuid(), finding.PrincipalId, finding.RoleId, finding.Scope, now, null, me, now);
            db.Eligibilities.Add(eligibility);
            db.AuditEvents.Add(context.Audit(now, AuditActions.EligibilityCreated, "eligibility", eligibility.Id.ToString(), AuditOutcome.Success,
                new { role = role.DisplayName, scope = finding.Scope, notAfter = (DateTimeOffset?)null, justification = command.Justification?.Trim(), source = "converted from a standing assignment" },
                finding.PrincipalId, finding.RoleId));
        }

        await db.SaveChangesAsync(cancellationToken);

        // Then the standing assignment goes (keyed by the alert: a removal of a grant the portal never made).
        var grant = new DirectoryGrant(finding.Id, finding.PrincipalId, role.Id, role.Kind, role.ExternalId, finding.Scope, finding.FirstSeenAt, now);
        var result = (await gateway.ApplyAsync([new DirectoryChange(DirectoryChangeKind.Remove, grant)], cancellationToken)).Single();
        var removed = result.Outcome == DirectoryChangeOutcome.Done;
        if (removed)
        {
            finding.Resolve(now, $"converted to an eligibility by {context.Actor.DisplayName}");
        }

        db.AuditEvents.Add(context.Audit(now, removed ? AuditActions.DriftResolved : AuditActions.DriftConversionFailed, "drift", finding.Id.ToString(),
            removed ? AuditOutcome.Success : AuditOutcome.Failed,
            new { role = role.DisplayName, eligibility = eligibility.Id, justification = command.Justification?.Trim(), error = result.Error }, finding.PrincipalId, finding.RoleId));
        await db.SaveChangesAsync(cancellationToken);
        events.RolesChanged([finding.PrincipalId]);
        return new ConversionResult(eligibility.Id, removed, removed ? null : result.Error ?? result.Outcome.ToString());
    }
}
