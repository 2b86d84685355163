using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Domain;
using PimPortal.Core.Lifecycle;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;
using PimPortal.Core.Signals;

namespace PimPortal.Core.Features.Settings;

/// <summary>
/// A PIM administrator changes every setting of one role at once. <paramref name="Version"/> is the version the form
/// was read at: a change made by someone else since then is refused, not overwritten. Audited with before and after.
/// The settings of a protected role (<see cref="ProtectedRoles"/>) change only with a fresh step-up:
/// <paramref name="AuthenticatorCode"/> is a code from the administrator's authenticator, or in Entra mode the proof of
/// a Conditional Access step-up (<see cref="Features.Activation.BeginStepUp"/>); no earlier proof of the session counts.
/// </summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record UpdateRoleSettings(Guid RoleId, Guid Version, RoleSettingsInput Settings, string? AuthenticatorCode = null) : ICommand<Guid>;

/// <summary>Every setting of a role, as the form edits it and the audit trail records it.</summary>
public sealed record RoleSettingsInput(
    TimeSpan MaxActivationDuration,
    bool RequireMfa,
    bool RequireJustification,
    bool RequireTicket,
    bool RequireApproval,
    int ApprovalsNeeded,
    IReadOnlyList<Guid> Approvers,
    TimeSpan ApprovalTimeout,
    bool AllowPermanentEligibility,
    int MaxEligibilityDays,
    bool AllowPermanentActiveAssignment,
    int MaxActiveAssignmentDays,
    IReadOnlyList<NotificationRuleInput> Notifications)
{
    public static RoleSettingsInput From(RoleSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(
            settings.MaxActivationDuration, settings.RequireMfa, settings.RequireJustification, settings.RequireTicket, settings.RequireApproval,
            settings.ApprovalsNeeded, [.. settings.Approvers.Select(a => a.PrincipalId).Order()], settings.ApprovalTimeout,
            settings.AllowPermanentEligibility, settings.MaxEligibilityDays, settings.AllowPermanentActiveAssignment, settings.MaxActiveAssignmentDays,
            [.. Enum.GetValues<RoleNotificationEvent>().Select(e => NotificationRuleInput.From(settings.RuleFor(e)))]);
    }

    /// <summary>The names of the settings that differ from <paramref name="other"/>.</summary>
    public IReadOnlyList<string> Differences(RoleSettingsInput other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var changed = new List<string>();
        void Compare<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b))
            {
                changed.Add(name);
            }
        }

        Compare(nameof(MaxActivationDuration), MaxActivationDuration, other.MaxActivationDuration);
        Compare(nameof(RequireMfa), RequireMfa, other.RequireMfa);
        Compare(nameof(RequireJustification), RequireJustification, other.RequireJustification);
        Compare(nameof(RequireTicket), RequireTicket, other.RequireTicket);
        Compare(nameof(RequireApproval), RequireApproval, other.RequireApproval);
        Compare(nameof(ApprovalsNeeded), ApprovalsNeeded, other.ApprovalsNeeded);
        Compare(nameof(Approvers), string.Join(",", Approvers.Order()), string.Join(",", other.Approvers.Order()));
        Compare(nameof(ApprovalTimeout), ApprovalTimeout, other.ApprovalTimeout);
        Compare(nameof(AllowPermanentEligibility), AllowPermanentEligibility, other.AllowPermanentEligibility);
        Compare(nameof(MaxEligibilityDays), MaxEligibilityDays, other.MaxEligibilityDays);
        Compare(nameof(AllowPermanentActiveAssignment), AllowPermanentActiveAssignment, other.AllowPermanentActiveAssignment);
        Compare(nameof(MaxActiveAssignmentDays), MaxActiveAssignmentDays, other.MaxActiveAssignmentDays);
        foreach (var roleEvent in Enum.GetValues<RoleNotificationEvent>())
        {
            Compare($"{nameof(Notifications)}.{roleEvent}", Notifications.FirstOrDefault(n => n.Event == roleEvent)?.Normalized(),
                other.Notifications.FirstOrDefault(n => n.Event == roleEvent)?.Normalized());
        }

        return changed;
    }
}

/// <summary>Who is told of one event of the role; <paramref name="AdditionalRecipients"/> are mail addresses.</summary>
public sealed record NotificationRuleInput(RoleNotificationEvent Event, bool NotifyAdministrators, bool NotifyAssignee, IReadOnlyList<string> AdditionalRecipients)
{
    public static NotificationRuleInput From(RoleNotificationRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return new(rule.Event, rule.NotifyAdministrators, rule.NotifyAssignee, rule.AdditionalAddresses);
    }

    internal string Normalized() => $"{NotifyAdministrators}|{NotifyAssignee}|{string.Join(",", AdditionalRecipients.Select(a => a.Trim().ToLowerInvariant()).Where(a => a.Length > 0).Order(StringComparer.Ordinal))}";
}

public sealed class UpdateRoleSettingsValidator : AbstractValidator<UpdateRoleSettings>
{
    public UpdateRoleSettingsValidator()
    {
        RuleFor(x => x.RoleId).NotEmpty().WithMessage("Choose the role.");
        RuleFor(x => x.Settings).NotNull().WithMessage("Give the settings.");
        When(x => x.Settings is not null, () =>
        {
            RuleFor(x => x.Settings.MaxActivationDuration)
                .InclusiveBetween(RoleSettings.MinimumMaxDuration, RoleSettings.AbsoluteMaxDuration)
                .WithMessage($"The maximum activation duration must be between {RoleSettings.MinimumMaxDuration.TotalMinutes:0} minutes and {RoleSettings.AbsoluteMaxDuration.TotalHours:0} hours.");
            RuleFor(x => x.Settings.ApprovalsNeeded).GreaterThanOrEqualTo(1).WithMessage("At least one approval is needed.");
            RuleFor(x => x.Settings.Approvers).NotNull().WithMessage("Give the approvers (an empty list for none).")
                .Must(a => a is null || a.Count <= RoleSettings.MaxApprovers).WithMessage($"At most {RoleSettings.MaxApprovers} approvers (name a group for more).");
            RuleFor(x => x.Settings.ApprovalTimeout)
                .InclusiveBetween(RoleSettings.MinimumApprovalTimeout, RoleSettings.MaximumApprovalTimeout)
                .WithMessage($"A request must wait between {RoleSettings.MinimumApprovalTimeout.TotalHours:0} hour and {RoleSettings.MaximumApprovalTimeout.TotalDays:0} days for a decision.");
            RuleFor(x => x.Settings.MaxEligibilityDays).InclusiveBetween(1, RoleSettings.MaximumAssignmentDays)
                .WithMessage($"An eligibility may be limited to between 1 and {RoleSettings.MaximumAssignmentDays} days.");
            RuleFor(x => x.Settings.MaxActiveAssignmentDays).InclusiveBetween(1, RoleSettings.MaximumAssignmentDays)
                .WithMessage($"An active assignment may be limited to between 1 and {RoleSettings.MaximumAssignmentDays} days.");
            RuleFor(x => x.Settings.Notifications).NotNull().WithMessage("Give the notification rules (an empty list for none).")
                .Must(n => n is null || n.Select(r => r.Event).Distinct().Count() == n.Count).WithMessage("Each event has one rule.");
        });
    }
}

public sealed class UpdateRoleSettingsHandler(
    IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time, PortalEvents events, Notifier notifier, Announcer announcer, IMfaStepUp stepUp, IOptions<PimOptions> options)
    : ICommandHandler<UpdateRoleSettings, Guid>
{
    public async ValueTask<Guid> Handle(UpdateRoleSettings command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var role = await db.PrivilegedRoles
            .Include(r => r.Settings).ThenInclude(s => s.Approvers)
            .Include(r => r.Settings).ThenInclude(s => s.NotificationRules)
            .AsSplitQuery()
            .SingleOrDefaultAsync(r => r.Id == command.RoleId, cancellationToken)
            ?? throw new NotFoundException("That role does not exist.");
        var settings = role.Settings;
        if (settings.Version != command.Version)
        {
            throw new ConflictException("Someone changed this role's settings after you opened them; reload to see their change, then make yours.");
        }

        var input = command.Settings;
        var before = RoleSettingsInput.From(settings);
        var changed = before.Differences(input);
        if (changed.Count == 0)
        {
            return settings.Version;
        }

        var isProtected = ProtectedRoles.IsProtected(role);
        if (isProtected)
        {
            // Before anything is staged: the proof is recorded with the change it allows, and used once.
            if (string.IsNullOrWhiteSpace(command.AuthenticatorCode))
            {
                throw new RefusedException(options.Value.Mode == PimMode.Entra
                    ? $"{role.DisplayName} guards the whole tenant: verify with Microsoft (Conditional Access) to change its settings."
                    : $"{role.DisplayName} guards the whole tenant: enter a code from your authenticator app to change its settings.");
            }

            await stepUp.VerifyAsync(db, context, command.AuthenticatorCode, now, cancellationToken);
        }

        // Approvers must be enabled users or groups of the directory (an unknown id is refused, not stored).
        var approverIds = input.Approvers.Distinct().ToList();
        var known = await db.Principals.AsNoTracking().Where(p => approverIds.Contains(p.Id)).Select(p => new { p.Id, p.IsEnabled, p.DisplayName }).ToListAsync(cancellationToken);
        if (approverIds.Except(known.Select(k => k.Id)).Any())
        {
            throw new DomainRuleException("An approver is not a user or group of the directory.");
        }

        var previous = settings.Approvers.Select(a => a.PrincipalId).ToHashSet();
        if (known.FirstOrDefault(k => !k.IsEnabled && !previous.Contains(k.Id)) is { } disabled)
        {
            throw new DomainRuleException($"{disabled.DisplayName} is disabled and cannot be made an approver.");
        }

        settings.SetMaxActivationDuration(input.MaxActivationDuration);
        settings.SetRequirements(input.RequireMfa, input.RequireJustification, input.RequireTicket);
        settings.SetApproval(input.RequireApproval, input.ApprovalsNeeded, approverIds, input.ApprovalTimeout);
        settings.SetEligibilityExpiry(input.AllowPermanentEligibility, input.MaxEligibilityDays);
        settings.SetActiveAssignmentExpiry(input.AllowPermanentActiveAssignment, input.MaxActiveAssignmentDays);
        foreach (var rule in input.Notifications)
        {
            settings.SetNotificationRule(new RoleNotificationRule(rule.Event, rule.NotifyAdministrators, rule.NotifyAssignee, rule.AdditionalRecipients ?? []));
        }

        settings.Touch();
        var names = await PrincipalRef.ListAsync(db, [.. previous.Union(approverIds)], cancellationToken);
        var work = context.Begin(db, now);
        work.Audit(AuditActions.RoleSettingsChanged, "role", role.Id.ToString(), AuditOutcome.Success,
            new { role = role.DisplayName, scope = role.Scope, changed, before = Describe(before, names), after = Describe(RoleSettingsInput.From(settings), names) },
            roleId: role.Id);
        if (isProtected)
        {
            // The rules that guard the whole tenant: every other PIM administrator hears of the change, and one of
            // them (not its author) acknowledges it.
            var summary = $"{context.Actor.DisplayName} changed the settings of {role.DisplayName}";
            var alert = new Alert(Guid.NewGuid(), AlertKind.ProtectedRoleChanged, $"protected-role-change:{Guid.NewGuid():N}", AlertSeverity.High, summary,
                $"Changed: {string.Join(", ", changed)}, with a fresh step-up. {role.DisplayName} guards the whole tenant; confirm the change was intended (the audit trail holds the settings before and after).",
                context.Actor.PrincipalId, role.Id, null, now) { CausedBy = context.Actor.PrincipalId };
            await AlertRaising.RaiseAndTellAdministratorsAsync(work, alert, notifier, cancellationToken, except: context.Actor.PrincipalId);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new ConflictException("Someone changed this role's settings at the same moment; reload to see their change, then make yours.");
        }

        announcer.Announce(work.Announce);

        // Everyone who may activate the role sees its new requirements at once.
        var eligible = await db.Eligibilities.AsNoTracking().Where(e => e.RoleId == role.Id && e.RemovedAt == null)
            .Select(e => e.PrincipalId)
            .Union(db.GroupMemberships.Where(m => db.Eligibilities.Any(e => e.RoleId == role.Id && e.RemovedAt == null && e.PrincipalId == m.GroupId)).Select(m => m.MemberId))
            .ToListAsync(cancellationToken);
        events.RolesChanged(eligible);
        events.ApprovalsChanged();
        return settings.Version;
    }

    /// <summary>The settings as the audit trail keeps them: approvers by name as well as id.</summary>
    private static object Describe(RoleSettingsInput settings, IReadOnlyList<PrincipalRef> names) => new
    {
        maxActivationDuration = settings.MaxActivationDuration.ToString(),
        settings.RequireMfa,
        settings.RequireJustification,
        settings.RequireTicket,
        settings.RequireApproval,
        settings.ApprovalsNeeded,
        approvers = settings.Approvers.Select(id => new { id, name = names.FirstOrDefault(n => n.Id == id)?.DisplayName }),
        approvalTimeout = settings.ApprovalTimeout.ToString(),
        settings.AllowPermanentEligibility,
        settings.MaxEligibilityDays,
        settings.AllowPermanentActiveAssignment,
        settings.MaxActiveAssignmentDays,
        notifications = settings.Notifications.Where(n => n.NotifyAdministrators || n.NotifyAssignee || n.AdditionalRecipients.Count > 0)
            .Select(n => new { @event = n.Event.ToString(), administrators = n.NotifyAdministrators, assignee = n.NotifyAssignee, additional = n.AdditionalRecipients }),
    };
}
