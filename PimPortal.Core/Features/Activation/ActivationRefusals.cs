using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Activation;

/// <summary>Writes the audit event of a refused activation or extension — the only thing a refusal writes.</summary>
internal static class ActivationRefusals
{
    public static async Task RecordAsync(PimDbContext db, RequestContext context, DateTimeOffset now, string targetType, string targetId, IReadOnlyList<string> reasons, Guid? roleId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var target = targetId.Length > 128 ? targetId[..128] : targetId;
        db.AuditEvents.Add(context.Audit(now, AuditActions.ActivationRefused, targetType, target, AuditOutcome.Refused, new { reasons }, context.Actor.PrincipalId, roleId));
        await db.SaveChangesAsync(cancellationToken);
        PimTelemetry.Activations.Add(1, new("pim.role_id", roleId?.ToString() ?? "several"), new("pim.outcome", "refused"));
    }

    /// <summary>The refusal to throw: one reason as it is, several after <paramref name="lead"/>.</summary>
    public static RefusedException Refused(string lead, IReadOnlyList<string> reasons) =>
        new(reasons.Count == 1 ? reasons[0] : $"{lead} {string.Join(" ", reasons)}", reasons);
}
