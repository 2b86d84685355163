using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Audit;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

/// <summary>
/// Recomputes the audit trail's hash chain against its checkpoints and names the first broken place. The
/// verification and its result are themselves audited.
/// </summary>
[RequirePermission(PortalPermissions.Auditor, PortalPermissions.PimAdministrator)]
public sealed record VerifyAudit : ICommand<AuditVerification>;

public sealed class VerifyAuditHandler(AuditTrail trail, IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time)
    : ICommandHandler<VerifyAudit, AuditVerification>
{
    public async ValueTask<AuditVerification> Handle(VerifyAudit command, CancellationToken cancellationToken)
    {
        var result = await trail.VerifyAsync(cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.AuditEvents.Add(context.Audit(time.GetUtcNow(), AuditActions.AuditVerified, "audit", "trail", result.Intact ? AuditOutcome.Success : AuditOutcome.Failed,
            new { result.Intact, result.EventsVerified, result.CheckpointsVerified, result.Unsealed, broken = result.Break }));
        await db.SaveChangesAsync(CancellationToken.None);
        return result;
    }
}
