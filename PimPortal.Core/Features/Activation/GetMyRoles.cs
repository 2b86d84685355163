using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>The signed-in user's roles: what they may activate, what is active now, and what waits for approval.</summary>
public sealed record GetMyRoles : IQuery<MyRoles>;

/// <summary>The My roles page, as of <see cref="Now"/>.</summary>
/// <param name="MfaFreshUntil">Until when the user's last MFA proof counts, or null if it does not now.</param>
public sealed record MyRoles(
    IReadOnlyList<EligibleRole> Eligible,
    IReadOnlyList<ActiveRole> Active,
    IReadOnlyList<PendingRequest> Pending,
    DateTimeOffset Now,
    DateTimeOffset? MfaFreshUntil);

/// <summary>A role the user may activate, and what activating it requires.</summary>
public sealed record EligibleRole(
    Guid EligibilityId,
    Guid RoleId,
    string RoleName,
    RoleKind Kind,
    string Scope,
    TimeSpan MaxDuration,
    bool RequiresMfa,
    bool RequiresJustification,
    bool RequiresTicket,
    bool RequiresApproval,
    int ApprovalsNeeded,
    DateTimeOffset NotBefore,
    DateTimeOffset? NotAfter,
    bool IsActive,
    bool IsPending)
{
    /// <summary>Whether it can be activated now: started, and neither active nor waiting for approval already.</summary>
    public bool CanActivate { get; init; }

    /// <summary>The group the eligibility is given to, when the user has it as a member of that group.</summary>
    public string? ViaGroup { get; init; }
}

/// <summary>An open activation (Provisioning or Active) of the user.</summary>
public sealed record ActiveRole(
    Guid ActivationId,
    Guid? EligibilityId,
    Guid RoleId,
    string RoleName,
    RoleKind Kind,
    string Scope,
    ActivationStatus Status,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    DateTimeOffset? ConfirmedAt,
    TimeSpan MaxDuration,
    bool RequiresApproval,
    string? Justification,
    bool ExtensionPending)
{
    /// <summary>Assigned active by a PIM administrator (not activated by the holder): it cannot be deactivated or extended here.</summary>
    public bool IsAssignment { get; init; }

    /// <summary>A permanent active assignment.</summary>
    public bool IsPermanent => NotAfter == RoleActivation.PermanentEnd;

    /// <summary>While Provisioning: how the directory write is going (attempts so far, the last error, the next try).</summary>
    public DirectoryProgress? Progress { get; init; }
}

/// <summary>Where an unconfirmed directory write stands, in the directory's own words.</summary>
public sealed record DirectoryProgress(int Attempts, string? LastError, DateTimeOffset NextAttemptAt);

/// <summary>A request of the user waiting for approval, or approved and waiting for its scheduled start.</summary>
public sealed record PendingRequest(
    Guid RequestId,
    Guid RoleId,
    string RoleName,
    RoleKind Kind,
    string Scope,
    ActivationRequestKind RequestKind,
    TimeSpan Duration,
    string? Justification,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    int ApprovalsNeeded,
    int ApprovalsGiven,
    ActivationRequestStatus Status,
    DateTimeOffset RequestedStart);

public sealed class GetMyRolesHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, IMfaStepUp stepUp, TimeProvider time, IOptions<PimOptions> options)
    : IQueryHandler<GetMyRoles, MyRoles>
{
    public async ValueTask<MyRoles> Handle(GetMyRoles query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);

        var active = await db.Activations.AsNoTracking()
            .Where(RoleActivation.Open).Where(a => a.PrincipalId == me)
            .OrderBy(a => a.NotAfter)
            .Select(a => new
            {
                a.Id, a.EligibilityId, a.RoleId, a.Role.DisplayName, a.Role.Kind, a.Scope, a.Status, a.NotBefore, a.NotAfter, a.ConfirmedAt,
                a.Role.Settings.MaxActivationDuration, a.Role.Settings.RequireApproval, a.AssignedBy,
                Justification = db.ActivationRequests.Where(r => r.Id == a.RequestId).Select(r => r.Justification).FirstOrDefault(),
                Write = db.Outbox.Where(m => m.TargetId == a.Id && m.ProcessedAt == null && m.Attempts > 0)
                    .OrderByDescending(m => m.CreatedAt)
                    .Select(m => new { m.Attempts, m.LastError, m.DueAt })
                    .FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);

        var pending = await db.ActivationRequests.AsNoTracking()
            .Where(ActivationRequest.Waiting).Where(r => r.RequesterId == me)
            .OrderBy(r => r.CreatedAt)
            .Select(r => new PendingRequest(
                r.Id, r.RoleId, r.Role.DisplayName, r.Role.Kind, r.Scope, r.Kind, r.Duration, r.Justification, r.CreatedAt, r.ExpiresAt,
                r.ApprovalsNeeded, r.Decisions.Count(d => d.Verdict == ApprovalVerdict.Approve), r.Status, r.RequestedStart))
            .ToListAsync(cancellationToken);

        // Own eligibilities and those of the (enabled) groups the user is a member of, current now (some may start later).
        var groups = db.EnabledGroupsOf(me);
        var eligible = await db.Eligibilities.AsNoTracking()
            .Where(RoleEligibility.Current.At(now))
            .Where(e => e.PrincipalId == me || groups.Contains(e.PrincipalId))
            .Select(e => new
            {
                Eligibility = e, e.Id, e.RoleId, e.Role.DisplayName, e.Role.Kind, e.Scope, e.NotBefore, e.NotAfter,
                ViaGroup = e.PrincipalId == me ? null : db.Principals.Where(g => g.Id == e.PrincipalId).Select(g => g.DisplayName).FirstOrDefault(),
                e.Role.Settings.MaxActivationDuration, e.Role.Settings.RequireMfa, e.Role.Settings.RequireJustification,
                e.Role.Settings.RequireTicket, e.Role.Settings.RequireApproval, e.Role.Settings.ApprovalsNeeded,
            })
            .ToListAsync(cancellationToken);

        var lastMfa = await stepUp.LastVerifiedAtAsync(db, context.Actor, cancellationToken);
        var mfaFreshUntil = ActivationPolicy.MfaFreshUntil(lastMfa, options.Value.StepUp.FreshFor, now);

        bool IsActive(Guid roleId, string scope) => active.Exists(a => a.RoleId == roleId && a.Scope == scope);
        bool IsPending(Guid roleId, string scope, ActivationRequestKind kind) => pending.Exists(p => p.RoleId == roleId && p.Scope == scope && p.RequestKind == kind);

        return new MyRoles(
            [.. eligible
                // The same role and scope directly and through a group (or two groups): one row — one that can be used
                // now before one that starts later, then one's own before a group's, then the one lasting longest.
                .GroupBy(e => (e.RoleId, e.Scope))
                .Select(g => g.OrderBy(e => e.Eligibility.HasStartedBy(now) ? 0 : 1).ThenBy(e => e.ViaGroup is null ? 0 : 1)
                    .ThenByDescending(e => e.NotAfter ?? DateTimeOffset.MaxValue).First())
                .Select(e => new EligibleRole(
                    e.Id, e.RoleId, e.DisplayName, e.Kind, e.Scope, e.MaxActivationDuration, e.RequireMfa, e.RequireJustification,
                    e.RequireTicket, e.RequireApproval, e.ApprovalsNeeded, e.NotBefore, e.NotAfter,
                    IsActive(e.RoleId, e.Scope), IsPending(e.RoleId, e.Scope, ActivationRequestKind.Activate))
                {
                    // The account is enabled (the authorization behaviour checked it), and a listed eligibility is held.
                    CanActivate = EligibilityUse.MayUse(e.Eligibility, accountEnabled: true, held: true, now)
                        && !IsActive(e.RoleId, e.Scope) && !IsPending(e.RoleId, e.Scope, ActivationRequestKind.Activate),
                    ViaGroup = e.ViaGroup,
                })
                .OrderBy(e => e.RoleName, StringComparer.CurrentCultureIgnoreCase).ThenBy(e => e.Scope, StringComparer.Ordinal)],
            [.. active.Select(a => new ActiveRole(
                a.Id, a.EligibilityId, a.RoleId, a.DisplayName, a.Kind, a.Scope, a.Status, a.NotBefore, a.NotAfter, a.ConfirmedAt,
                a.MaxActivationDuration, a.RequireApproval, a.Justification, IsPending(a.RoleId, a.Scope, ActivationRequestKind.Extend))
            {
                IsAssignment = a.AssignedBy != null,
                Progress = a.Status == ActivationStatus.Provisioning && a.Write is { } write ? new DirectoryProgress(write.Attempts, write.LastError, write.DueAt) : null,
            })],
            pending,
            now,
            mfaFreshUntil);
    }
}
