using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;

namespace PimPortal.Core.Features.Activation;

/// <summary>What the policy needs to know about one of the actor's eligibilities, read in a few queries for many.</summary>
internal sealed record PolicyContext(
    Guid EligibilityId,
    RoleEligibility? Eligibility,
    IReadOnlyList<string> ApproverNames,
    bool HasOpenActivation,
    bool HasPendingActivation,
    bool HasPendingExtension)
{
    public PrivilegedRole? Role => Eligibility?.Role;

    public string RoleName => Role is { } role ? role.Kind == RoleKind.AzureResourceRole ? $"{role.DisplayName} on {role.Scope}" : role.DisplayName : "Unknown role";

    public ActivationPolicyInput Input(
        DateTimeOffset now, TimeSpan? duration, string? justification, string? ticketNumber, string? ticketSystem,
        DateTimeOffset? mfaVerifiedAt, TimeSpan mfaFreshFor, bool mfaProofOffered = false) =>
        new(Role?.Settings, Eligibility, PrincipalEnabled: true, now, duration, justification, ticketNumber, ticketSystem,
            mfaVerifiedAt, mfaFreshFor, HasOpenActivation, HasPendingActivation, ApproverNames: ApproverNames, MfaProofOffered: mfaProofOffered);

    /// <summary>
    /// Loads the contexts of <paramref name="eligibilityIds"/> for <paramref name="principalId"/>. An id that is not
    /// one of the principal's eligibilities (unknown, removed, someone else's) gets a context without eligibility,
    /// which the policy refuses as "not eligible" — without saying whose it is.
    /// </summary>
    public static async Task<IReadOnlyList<PolicyContext>> LoadAsync(PimDbContext db, Guid principalId, IReadOnlyList<Guid> eligibilityIds, CancellationToken cancellationToken)
    {
        var eligibilities = await db.Eligibilities.AsNoTracking()
            .Include(e => e.Role).ThenInclude(r => r.Settings).ThenInclude(s => s.Approvers)
            .Where(e => e.PrincipalId == principalId && eligibilityIds.Contains(e.Id))
            .ToDictionaryAsync(e => e.Id, cancellationToken);
        var roleIds = eligibilities.Values.Select(e => e.RoleId).Distinct().ToList();

        var open = await db.Activations.AsNoTracking()
            .Where(a => a.PrincipalId == principalId && roleIds.Contains(a.RoleId) && (a.Status == ActivationStatus.Provisioning || a.Status == ActivationStatus.Active))
            .Select(a => new { a.RoleId, a.Scope })
            .ToListAsync(cancellationToken);
        var pending = await db.ActivationRequests.AsNoTracking()
            .Where(r => r.RequesterId == principalId && roleIds.Contains(r.RoleId) && r.Status == ActivationRequestStatus.Pending)
            .Select(r => new { r.RoleId, r.Scope, r.Kind })
            .ToListAsync(cancellationToken);

        // Nobody approves their own request, so the requester is not counted among the approvers.
        var approverIds = eligibilities.Values.SelectMany(e => e.Role.Settings.Approvers).Select(a => a.PrincipalId)
            .Where(id => id != principalId).Distinct().ToList();
        var approverNames = approverIds.Count == 0
            ? []
            : await db.Principals.AsNoTracking()
                .Where(p => approverIds.Contains(p.Id) && p.IsEnabled)
                .ToDictionaryAsync(p => p.Id, p => p.DisplayName, cancellationToken);

        return [.. eligibilityIds.Select(id =>
        {
            if (!eligibilities.TryGetValue(id, out var eligibility))
            {
                return new PolicyContext(id, null, [], false, false, false);
            }

            var names = eligibility.Role.Settings.Approvers
                .Where(a => approverNames.ContainsKey(a.PrincipalId))
                .Select(a => approverNames[a.PrincipalId])
                .Order(StringComparer.Ordinal)
                .ToList();
            return new PolicyContext(
                id,
                eligibility,
                names,
                open.Exists(o => o.RoleId == eligibility.RoleId && o.Scope == eligibility.Scope),
                pending.Exists(p => p.RoleId == eligibility.RoleId && p.Scope == eligibility.Scope && p.Kind == ActivationRequestKind.Activate),
                pending.Exists(p => p.RoleId == eligibility.RoleId && p.Scope == eligibility.Scope && p.Kind == ActivationRequestKind.Extend));
        })];
    }
}
