using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>What the policy needs to know about one of the actor's eligibilities, read in a few queries for many.</summary>
internal sealed record PolicyContext(
    Guid EligibilityId,
    RoleEligibility? Eligibility,
    bool PrincipalEnabled,
    IReadOnlyList<string> ApproverNames,
    int AvailableApprovers,
    bool HasOpenActivation,
    bool HasPendingActivation,
    bool HasPendingExtension,
    bool HasStandingAssignment = false)
{
    /// <summary>The groups the requester is a member of, read when the eligibility is a group's (else empty).</summary>
    public IReadOnlyCollection<Guid> RequesterGroups { get; init; } = [];

    public PrivilegedRole? Role => Eligibility?.Role;

    public bool RequiresMfa => Role?.Settings.RequireMfa == true;

    /// <summary>The longest duration the policy would accept now (zero when not eligible).</summary>
    public TimeSpan LongestAllowed(DateTimeOffset now) => Role is { } role ? ActivationPolicy.LongestAllowed(role.Settings, Eligibility, now) : TimeSpan.Zero;

    public string RoleName => Role is { } role ? role.Kind == RoleKind.AzureResourceRole ? $"{role.DisplayName} on {role.Scope}" : role.DisplayName : "Unknown role";

    /// <summary>The policy's input for this eligibility; <paramref name="settings"/> gives how fresh MFA must be and what a justification needs.</summary>
    public ActivationPolicyInput Input(
        DateTimeOffset now, TimeSpan? duration, string? justification, string? ticketNumber, string? ticketSystem,
        DateTimeOffset? mfaVerifiedAt, PimOptions settings, bool mfaProofOffered = false) =>
        new(Role?.Settings, Eligibility, PrincipalEnabled, now, duration, justification, ticketNumber, ticketSystem,
            mfaVerifiedAt, settings.StepUp.FreshFor, HasOpenActivation, HasPendingActivation, ApproverNames: ApproverNames, MfaProofOffered: mfaProofOffered,
            AvailableApprovers: AvailableApprovers, HasStandingAssignment: HasStandingAssignment, JustificationMinimum: settings.Activation.JustificationMinimum);

    // One round trip, compiled once (every activation runs it): the eligibilities with their roles and settings
    // (approvers are read apart, only for roles that need approval), and whether each already has an open grant or a pending request (correlated subqueries).
    // The rules' expressions (RoleActivation.Open, ActivationRequest.Waiting) are static and inline here; a compiled query
    // cannot call PimDbContext.EnabledGroupsOf with its own parameters, so "held through an enabled group" is written out.
    private static readonly CompiledQuery<Func<PimDbContext, Guid, Guid[], IAsyncEnumerable<EligibilityRow>>> LoadRows = new(() =>
        EF.CompileAsyncQuery((PimDbContext db, Guid principalId, Guid[] ids) =>
            db.Eligibilities.AsNoTracking()
                .Include(e => e.Role).ThenInclude(r => r.Settings)
                .Where(e => ids.Contains(e.Id) && (e.PrincipalId == principalId || db.GroupMemberships.Any(m => m.GroupId == e.PrincipalId && m.MemberId == principalId
                    && db.Principals.Any(g => g.Id == e.PrincipalId && g.IsEnabled))))
                .Select(e => new EligibilityRow(
                    e,
                    db.Principals.Where(p => p.Id == principalId).Select(p => p.IsEnabled).FirstOrDefault(),
                    db.Activations.Where(RoleActivation.Open).Any(a => a.PrincipalId == principalId && a.RoleId == e.RoleId && a.Scope == e.Scope),
                    db.ActivationRequests.Where(ActivationRequest.Waiting).Any(r => r.RequesterId == principalId && r.RoleId == e.RoleId && r.Scope == e.Scope
                        && r.Kind == ActivationRequestKind.Activate),
                    db.ActivationRequests.Any(r => r.RequesterId == principalId && r.RoleId == e.RoleId && r.Scope == e.Scope
                        && r.Status == ActivationRequestStatus.Pending && r.Kind == ActivationRequestKind.Extend),
                    db.DirectoryAssignments.Any(a => a.PrincipalId == principalId && a.RoleId == e.RoleId && a.Scope == e.Scope && a.ActivationId == null)
                        || db.DriftFindings.Any(f => f.PrincipalId == principalId && f.RoleId == e.RoleId && f.Scope == e.Scope && f.ResolvedAt == null)
                        || db.StandingRemovals.Any(r => r.PrincipalId == principalId && r.RoleId == e.RoleId && r.Scope == e.Scope && r.Status == StandingRemovalStatus.Pending)))));

    /// <summary>
    /// Decides with the policy; when nothing is refused but a fresh MFA proof is missing, verifies the code — only then,
    /// so a refused request does not burn it — and decides again with the proof. <paramref name="decide"/> is called
    /// with the proof's time and whether a code was given and is still to be checked.
    /// </summary>
    public static async Task<(IReadOnlyList<PolicyDecision> Decisions, DateTimeOffset? MfaVerifiedAt)> DecideWithStepUpAsync(
        Func<DateTimeOffset?, bool, IReadOnlyList<PolicyDecision>> decide, DateTimeOffset? mfaVerifiedAt, string? code,
        IMfaStepUp stepUp, PimDbContext db, RequestContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var decisions = decide(mfaVerifiedAt, !string.IsNullOrWhiteSpace(code));
        if (decisions.Any(d => d.NeedsMfaProof) && decisions.All(d => d.Verdict != PolicyVerdict.Deny))
        {
            mfaVerifiedAt = await stepUp.VerifyAsync(db, context, code, now, cancellationToken);
            decisions = decide(mfaVerifiedAt, false);
        }

        return (decisions, mfaVerifiedAt);
    }

    /// <summary>When the actor last proved MFA in this session — read only when one of the roles requires it.</summary>
    public static async Task<DateTimeOffset?> LastMfaAsync(IReadOnlyList<PolicyContext> contexts, IMfaStepUp stepUp, PimDbContext db, Actor actor, CancellationToken cancellationToken) =>
        contexts.Any(c => c.RequiresMfa) ? await stepUp.LastVerifiedAtAsync(db, actor, cancellationToken) : null;

    /// <summary>
    /// Loads the contexts of <paramref name="eligibilityIds"/> for <paramref name="principalId"/>. An id that is not
    /// one of the principal's eligibilities (unknown, removed, someone else's) gets a context without eligibility,
    /// which the policy refuses as "not eligible" — without saying whose it is.
    /// </summary>
    public static async Task<IReadOnlyList<PolicyContext>> LoadAsync(PimDbContext db, Guid principalId, IReadOnlyList<Guid> eligibilityIds, CancellationToken cancellationToken)
    {
        var rows = new List<EligibilityRow>(eligibilityIds.Count);
        await foreach (var row in LoadRows.For(db)(db, principalId, [.. eligibilityIds]).WithCancellation(cancellationToken))
        {
            rows.Add(row);
        }

        var byId = rows.ToDictionary(r => r.Eligibility.Id);
        var eligibilities = byId.ToDictionary(r => r.Key, r => r.Value.Eligibility);

        // Nobody approves their own request, so the requester is not counted among the approvers; groups count by
        // their enabled members. Read only when a role needs approval.
        var approvalRoles = eligibilities.Values.Where(e => e.Role.Settings.RequireApproval).Select(e => e.RoleId).Distinct().ToList();
        var approvers = approvalRoles.Count == 0
            ? new Dictionary<Guid, (IReadOnlyList<string> Names, int Available)>()
            : await Approvers.DescribeAsync(db, approvalRoles, principalId, cancellationToken);

        // Eligibilities of groups: the requester's memberships, as the directory tables say now (the domain checks them again).
        IReadOnlyCollection<Guid> groups = eligibilities.Values.Any(e => e.PrincipalId != principalId)
            ? await db.GroupMemberships.AsNoTracking().Where(m => m.MemberId == principalId).Select(m => m.GroupId).ToListAsync(cancellationToken)
            : [];

        return [.. eligibilityIds.Select(id =>
        {
            if (!eligibilities.TryGetValue(id, out var eligibility))
            {
                // Not one of the actor's eligibilities: "not eligible" is the reason (the account itself was checked
                // by the authorization behaviour a moment ago).
                return new PolicyContext(id, null, PrincipalEnabled: true, [], 0, false, false, false);
            }

            var (names, available) = approvers.TryGetValue(eligibility.RoleId, out var found) ? found : ([], 0);
            var row = byId[id];
            return new PolicyContext(id, eligibility, row.PrincipalEnabled, names, available, row.HasOpen, row.PendingActivation, row.PendingExtension, row.HasStanding)
            {
                RequesterGroups = groups,
            };
        })];
    }
}

/// <summary>One eligibility as the policy query reads it.</summary>
internal sealed record EligibilityRow(RoleEligibility Eligibility, bool PrincipalEnabled, bool HasOpen, bool PendingActivation, bool PendingExtension, bool HasStanding);
