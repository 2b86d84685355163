using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Directory;

/// <summary>
/// A PIM administrator turns an "assigned outside the portal" alert into an eligibility: the holder becomes eligible
/// for the role (permanently, unless they already were) and the standing assignment is removed from the directory —
/// standing access becomes just-in-time access. The removal goes through the outbox (retried until done). Audited.
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
    IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, OutboxProcessor outbox, Announcer announcer)
    : ICommandHandler<ConvertDriftToEligibility, ConversionResult>
{
    public async ValueTask<ConversionResult> Handle(ConvertDriftToEligibility command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var finding = await db.DriftFindings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == command.FindingId && f.ResolvedAt == null, cancellationToken)
            ?? throw new NotFoundException("That alert does not exist or is already resolved.");
        var role = await db.PrivilegedRoles.AsNoTracking().Include(r => r.Settings).SingleAsync(r => r.Id == finding.RoleId, cancellationToken);
        var work = context.Begin(db, now);

        // The alert may be older than the last activation: never remove what a grant of the portal holds now.
        await StandingAccess.RefuseIfActivatedAsync(work, finding.PrincipalId, finding.RoleId, finding.Scope, cancellationToken);
        var (eligibility, removal) = await StandingAccess.ConvertAsync(work, new StandingAccess.Holder(finding.PrincipalId, role, finding.Scope, finding.FirstSeenAt, finding),
            StandingRemovalSource.Drift, null, command.Justification?.Trim(), cancellationToken);

        // The eligibility, its audit event and the removal's intent in one transaction; then the outbox removes it now,
        // and retries what the directory did not do yet.
        await db.SaveChangesAsync(cancellationToken);
        var delivered = await StandingRemovals.DeliverNowAsync(db, outbox, [removal.Id], work.Announce);
        announcer.Announce(work.Announce);
        var (removed, error) = delivered.TryGetValue(removal.Id, out var result) ? result : (false, StandingRemovals.Queued);
        return new ConversionResult(eligibility.Id, removed, error);
    }
}
