using PimPortal.Core.Domain;

namespace PimPortal.Core.Policy;

/// <summary>
/// The activation policy: a pure, fail-closed function of (settings, eligibility, request, now). The same function
/// decides a real activation and the dry run the dialog shows before submit. Deny before needs-approval before allow.
/// </summary>
public static class ActivationPolicy
{
    /// <summary>The shortest activation accepted.</summary>
    public static readonly TimeSpan MinimumDuration = TimeSpan.FromMinutes(5);

    /// <summary>Letters or digits a required justification needs at least, unless configured (Pim:Activation:JustificationMinimum).</summary>
    public const int DefaultJustificationMinimum = 3;

    /// <summary>How far ahead an activation may be scheduled.</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(30);

    public static PolicyDecision Evaluate(ActivationPolicyInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var violations = new List<PolicyViolation>();
        var requirements = new List<PolicyRequirement>();
        var settings = input.Settings;
        CheckStart(input, violations);
        CheckPrincipalAndEligibility(input, violations);
        if (settings is null)
        {
            if (input.Eligibility is not null)
            {
                violations.Add(new(PolicyViolationCode.RoleNotConfigured, "This role has no settings, so it cannot be activated."));
            }

            return new PolicyDecision(PolicyVerdict.Deny, violations, requirements);
        }

        CheckDuration(input, settings, violations, requirements);
        CheckJustificationAndTicket(input, settings, violations, requirements);
        CheckMfa(input, settings, violations, requirements);
        CheckConflicts(input, violations);

        if (settings.RequireApproval)
        {
            var who = input.ApproverNames is { Count: > 0 } names ? string.Join(", ", names) : "the role's approvers";
            requirements.Add(new(PolicyRequirementKind.Approval, $"Approval by {settings.ApprovalsNeeded} of: {who}", IsMet: false));
            var available = input.AvailableApprovers ?? input.ApproverNames?.Count;
            if (available is { } count && count < settings.ApprovalsNeeded)
            {
                violations.Add(new(PolicyViolationCode.NoApprovers,
                    $"This role needs {settings.ApprovalsNeeded} approvals but has {count} approvers other than you; ask a PIM administrator."));
            }
        }

        var verdict = violations.Count > 0 ? PolicyVerdict.Deny
            : settings.RequireApproval ? PolicyVerdict.NeedsApproval
            : PolicyVerdict.Allow;
        return new PolicyDecision(verdict, violations, requirements);
    }

    private static void CheckStart(ActivationPolicyInput input, List<PolicyViolation> violations)
    {
        if (input.Start is not { } start)
        {
            return;
        }

        if (input.Kind == ActivationRequestKind.Extend)
        {
            violations.Add(new(PolicyViolationCode.StartInvalid, "An extension starts when it is granted; it cannot be scheduled."));
        }
        else if (Starts.InThePast(start, input.Now) is { } past)
        {
            violations.Add(new(PolicyViolationCode.StartInvalid, past));
        }
        else if (start > input.Now + MaxScheduleAhead)
        {
            violations.Add(new(PolicyViolationCode.StartInvalid, $"An activation can be scheduled at most {MaxScheduleAhead.TotalDays:0} days ahead."));
        }
    }

    private static void CheckPrincipalAndEligibility(ActivationPolicyInput input, List<PolicyViolation> violations)
    {
        // Loaded eligibilities are the principal's own or a group's it is in now, so a loaded one is held.
        foreach (var problem in EligibilityUse.Problems(input.Eligibility, input.PrincipalEnabled, held: true, input.EffectiveStart))
        {
            var code = problem switch
            {
                EligibilityProblem.AccountDisabled => PolicyViolationCode.PrincipalDisabled,
                EligibilityProblem.NotStarted => PolicyViolationCode.EligibilityNotStarted,
                EligibilityProblem.Ended => PolicyViolationCode.EligibilityEnded,
                _ => PolicyViolationCode.NotEligible,
            };
            violations.Add(new(code, EligibilityUse.ToRequester(problem, input.Eligibility)));
        }
    }

    private static void CheckDuration(ActivationPolicyInput input, RoleSettings settings, List<PolicyViolation> violations, List<PolicyRequirement> requirements)
    {
        var max = settings.MaxActivationDuration;
        var duration = input.Duration;
        requirements.Add(new(PolicyRequirementKind.Duration, $"Duration of at most {Format(max)}",
            duration is { } d && d >= MinimumDuration && d <= max));
        if (duration is not { } value || value <= TimeSpan.Zero)
        {
            violations.Add(new(PolicyViolationCode.DurationInvalid, "Choose a duration greater than zero."));
        }
        else if (value < MinimumDuration)
        {
            violations.Add(new(PolicyViolationCode.DurationTooShort, $"The shortest activation is {Format(MinimumDuration)}."));
        }
        else if (value > max)
        {
            violations.Add(new(PolicyViolationCode.DurationOverMaximum, $"The duration {Format(value)} is longer than this role's maximum of {Format(max)}."));
        }
        else if (input.Kind == ActivationRequestKind.Extend && input.CurrentNotAfter is { } currentEnd && input.Now + value <= currentEnd)
        {
            violations.Add(new(PolicyViolationCode.ExtensionNotLater, $"The activation already lasts until {currentEnd:u}; choose a longer duration to extend it."));
        }
        else if (input.Eligibility?.NotAfter is { } eligibilityEnd && eligibilityEnd > input.EffectiveStart && input.EffectiveStart + value > eligibilityEnd)
        {
            violations.Add(new(PolicyViolationCode.DurationPastEligibility,
                $"Your eligibility ends at {eligibilityEnd:u}, so the activation must end by then: at most {Format(eligibilityEnd - input.EffectiveStart)}."));
        }
    }

    private static void CheckJustificationAndTicket(ActivationPolicyInput input, RoleSettings settings, List<PolicyViolation> violations, List<PolicyRequirement> requirements)
    {
        var justification = input.Justification?.Trim();
        if (settings.RequireJustification)
        {
            // "." or "-" is not a reason: count what carries words.
            var meaningful = justification?.Count(char.IsLetterOrDigit) ?? 0;
            requirements.Add(new(PolicyRequirementKind.Justification, "A justification", meaningful >= Math.Max(1, input.JustificationMinimum)));
            if (string.IsNullOrEmpty(justification))
            {
                violations.Add(new(PolicyViolationCode.JustificationMissing, "Give a justification."));
            }
            else if (meaningful < input.JustificationMinimum)
            {
                violations.Add(new(PolicyViolationCode.JustificationTooShort,
                    $"Say why you need the role: a justification needs at least {input.JustificationMinimum} letters or digits."));
            }
        }

        if (justification is { Length: > ActivationRequest.MaxJustificationLength })
        {
            violations.Add(new(PolicyViolationCode.JustificationTooLong, $"The justification is {justification.Length} characters; at most {ActivationRequest.MaxJustificationLength} are accepted."));
        }

        if (settings.RequireTicket)
        {
            var hasTicket = !string.IsNullOrWhiteSpace(input.TicketNumber) && !string.IsNullOrWhiteSpace(input.TicketSystem);
            requirements.Add(new(PolicyRequirementKind.Ticket, "A ticket number and its system", hasTicket));
            if (!hasTicket)
            {
                violations.Add(new(PolicyViolationCode.TicketMissing, "Give the ticket number and the ticket system."));
            }
        }
    }

    private static void CheckMfa(ActivationPolicyInput input, RoleSettings settings, List<PolicyViolation> violations, List<PolicyRequirement> requirements)
    {
        if (!settings.RequireMfa)
        {
            return;
        }

        if (MfaFreshUntil(input.MfaVerifiedAt, input.MfaFreshFor, input.Now) is not null)
        {
            requirements.Add(new(PolicyRequirementKind.Mfa, "Multi-factor authentication (proved in the last few minutes)", IsMet: true));
            return;
        }

        requirements.Add(new(PolicyRequirementKind.Mfa, "Multi-factor authentication at this moment", IsMet: false));
        if (!input.MfaProofOffered)
        {
            violations.Add(new(PolicyViolationCode.MfaRequired, "This role requires multi-factor authentication: enter the code from your authenticator app."));
        }
    }

    private static void CheckConflicts(ActivationPolicyInput input, List<PolicyViolation> violations)
    {
        if (input.Kind == ActivationRequestKind.Activate && input.HasOpenActivation)
        {
            violations.Add(new(PolicyViolationCode.AlreadyActive, "This role is already active for you at this scope; extend it instead."));
        }

        if (input.Kind == ActivationRequestKind.Extend && (!input.HasOpenActivation || input.CurrentNotAfter <= input.Now))
        {
            violations.Add(new(PolicyViolationCode.NotActive, "This activation has ended, so it cannot be extended."));
        }

        if (input.Kind == ActivationRequestKind.Activate && input.HasStandingAssignment)
        {
            // Its end would take the standing assignment away with it: the directory cannot tell the two apart.
            violations.Add(new(PolicyViolationCode.HeldStanding,
                "You already hold this role permanently in the directory (a standing assignment); ask a PIM administrator to make it eligible instead."));
        }

        if (input.HasPendingRequest)
        {
            violations.Add(new(PolicyViolationCode.AlreadyPending, "A request for this role is already waiting for approval."));
        }
    }

    /// <summary>The longest activation the policy would accept now: the role's maximum, cut at the eligibility's end.</summary>
    public static TimeSpan LongestAllowed(RoleSettings settings, RoleEligibility? eligibility, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var max = settings.MaxActivationDuration;
        return eligibility?.NotAfter is { } end && end - now < max ? (end > now ? end - now : TimeSpan.Zero) : max;
    }

    /// <summary>
    /// Until when a proof of MFA given at <paramref name="verifiedAt"/> spares further codes, or null when it does
    /// not (any more) at <paramref name="now"/>. A proof dated in the future does not count.
    /// </summary>
    public static DateTimeOffset? MfaFreshUntil(DateTimeOffset? verifiedAt, TimeSpan freshFor, DateTimeOffset now) =>
        verifiedAt is { } at && at <= now && now - at <= freshFor ? at + freshFor : null;

    /// <summary>Formats a duration the way the portal shows it: "4 h", "30 min", "1 h 30 min".</summary>
    public static string Format(TimeSpan value)
    {
        var totalMinutes = (long)Math.Round(value.TotalMinutes);
        var hours = totalMinutes / 60;
        var minutes = totalMinutes % 60;
        return (hours, minutes) switch
        {
            (0, _) => $"{minutes} min",
            (_, 0) => $"{hours} h",
            _ => $"{hours} h {minutes} min",
        };
    }
}

/// <summary>Everything the policy looks at; nothing else.</summary>
/// <param name="HasStandingAssignment">The principal holds the role at this scope outside the portal (a standing assignment).</param>
/// <param name="Start">A scheduled start (activations only); null means now.</param>
/// <param name="AvailableApprovers">Enabled users other than the requester who may approve (groups expanded); null: count the names.</param>
/// <param name="MfaProofOffered">
/// A code was given (or typed, in the dry run) and will be checked once nothing else refuses, so missing MFA evidence
/// is not (yet) a reason to deny; the MFA requirement stays unmet until the code is verified.
/// </param>
public sealed record ActivationPolicyInput(
    RoleSettings? Settings,
    RoleEligibility? Eligibility,
    bool PrincipalEnabled,
    DateTimeOffset Now,
    TimeSpan? Duration,
    string? Justification,
    string? TicketNumber,
    string? TicketSystem,
    DateTimeOffset? MfaVerifiedAt,
    TimeSpan MfaFreshFor,
    bool HasOpenActivation,
    bool HasPendingRequest,
    ActivationRequestKind Kind = ActivationRequestKind.Activate,
    DateTimeOffset? CurrentNotAfter = null,
    IReadOnlyList<string>? ApproverNames = null,
    bool MfaProofOffered = false,
    DateTimeOffset? Start = null,
    int? AvailableApprovers = null,
    bool HasStandingAssignment = false,
    int JustificationMinimum = ActivationPolicy.DefaultJustificationMinimum)
{
    /// <summary>When the grant would begin: the scheduled start, or now.</summary>
    public DateTimeOffset EffectiveStart => Starts.Effective(Start, Now);
}

/// <summary>The policy's answer.</summary>
public sealed record PolicyDecision(PolicyVerdict Verdict, IReadOnlyList<PolicyViolation> Violations, IReadOnlyList<PolicyRequirement> Requirements)
{
    /// <summary>The role requires MFA and there is no fresh proof yet: a code must be verified before anything is granted.</summary>
    public bool NeedsMfaProof => Requirements.Any(r => r.Kind == PolicyRequirementKind.Mfa && !r.IsMet);
}

/// <summary>The policy's verdict, in the order it is reached: deny wins over needs-approval, which wins over allow.</summary>
public enum PolicyVerdict
{
    /// <summary>Refused; <see cref="PolicyDecision.Violations"/> says why.</summary>
    Deny,

    /// <summary>Acceptable, but waits for approvers before anything is granted.</summary>
    NeedsApproval,

    /// <summary>Granted at once.</summary>
    Allow,
}

/// <summary>One reason the policy refuses.</summary>
public sealed record PolicyViolation(PolicyViolationCode Code, string Message);

/// <summary>Why the policy refuses.</summary>
public enum PolicyViolationCode
{
    RoleNotConfigured,
    PrincipalDisabled,
    NotEligible,
    EligibilityNotStarted,
    EligibilityEnded,
    DurationInvalid,
    DurationTooShort,
    DurationOverMaximum,
    DurationPastEligibility,
    ExtensionNotLater,
    JustificationMissing,
    JustificationTooShort,
    JustificationTooLong,
    TicketMissing,
    MfaRequired,
    AlreadyActive,
    AlreadyPending,
    NotActive,
    NoApprovers,
    StartInvalid,
    HeldStanding,
}

/// <summary>One thing an activation of the role requires, and whether it is met yet.</summary>
public sealed record PolicyRequirement(PolicyRequirementKind Kind, string Description, bool IsMet);

/// <summary>The kinds of requirement a role can set.</summary>
public enum PolicyRequirementKind
{
    Duration,
    Justification,
    Ticket,
    Mfa,
    Approval,
}
