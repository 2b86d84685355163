using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Audit;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Audit;

/// <summary>Writes the checkpoints (and prunings) as a digest file to keep away from the database; audited.</summary>
[RequirePermission(PortalPermissions.Auditor, PortalPermissions.PimAdministrator)]
public sealed record ExportAuditDigest(Stream Output) : ICommand<long>;

public sealed class ExportAuditDigestHandler(AuditTrail trail, IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time)
    : ICommandHandler<ExportAuditDigest, long>
{
    public async ValueTask<long> Handle(ExportAuditDigest command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command.Output);
        var checkpoints = await trail.WriteDigestAsync(command.Output, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        db.AuditEvents.Add(context.Audit(time.GetUtcNow(), AuditActions.AuditDigestExported, "audit", "digest", AuditOutcome.Success, new { checkpoints }));
        await db.SaveChangesAsync(CancellationToken.None);
        return checkpoints;
    }
}
