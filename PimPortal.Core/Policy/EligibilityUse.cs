using PimPortal.Core.Domain;

namespace PimPortal.Core.Policy;

/// <summary>
/// Whether an eligibility may be used — activated, or an approved request made from it carried out — at a moment: the
/// one answer to that question, asked by the activation policy (and so the dry run and My roles) and by the lifecycle
/// when it carries out an approved or scheduled request. Pure and fail-closed: no eligibility is no use.
/// </summary>
public static class EligibilityUse
{
    /// <summary>
    /// What stands in the way, in order: the account, then the eligibility (missing, removed, not started, ended, no
    /// longer held through its group — the first that applies). Empty when it may be used.
    /// </summary>
    /// <param name="held">The principal is the eligibility's own principal, or a member of its (enabled) group, now.</param>
    public static IReadOnlyList<EligibilityProblem> Problems(RoleEligibility? eligibility, bool accountEnabled, bool held, DateTimeOffset at)
    {
        var problems = new List<EligibilityProblem>(2);
        if (!accountEnabled)
        {
            problems.Add(EligibilityProblem.AccountDisabled);
        }

        if (eligibility?.Problem(held, at) is { } problem)
        {
            problems.Add(problem);
        }
        else if (eligibility is null)
        {
            problems.Add(EligibilityProblem.Missing);
        }

        return problems;
    }

    /// <summary>Whether nothing stands in the way (<see cref="Problems"/> is empty).</summary>
    public static bool MayUse(RoleEligibility? eligibility, bool accountEnabled, bool held, DateTimeOffset at) =>
        Problems(eligibility, accountEnabled, held, at).Count == 0;

    /// <summary>The problem as the requester reads it in the activation dialog.</summary>
    public static string ToRequester(EligibilityProblem problem, RoleEligibility? eligibility) => problem switch
    {
        EligibilityProblem.AccountDisabled => "Your account is disabled.",
        EligibilityProblem.NotStarted => $"Your eligibility starts at {eligibility?.NotBefore:u}.",
        EligibilityProblem.Ended => $"Your eligibility ended at {eligibility?.NotAfter:u}.",
        _ => "You are not eligible for this role.",
    };

    /// <summary>Why an approved request made from it was not carried out ("Nothing was granted: …").</summary>
    public static string WhyNothingWasGranted(EligibilityProblem problem) => problem switch
    {
        EligibilityProblem.AccountDisabled => "the requester's account is disabled",
        EligibilityProblem.NotHeld => "the requester is no longer a member of the eligible group",
        EligibilityProblem.NotStarted => "the eligibility has not started",
        EligibilityProblem.Ended => "the eligibility has ended",
        _ => "the eligibility was removed",
    };

    private static EligibilityProblem? Problem(this RoleEligibility eligibility, bool held, DateTimeOffset at) =>
        eligibility.RemovedAt is not null ? EligibilityProblem.Removed
        : !eligibility.HasStartedBy(at) ? EligibilityProblem.NotStarted
        : !eligibility.IsCurrentAt(at) ? EligibilityProblem.Ended
        : !held ? EligibilityProblem.NotHeld
        : null;
}

/// <summary>What stands in the way of using an eligibility (<see cref="EligibilityUse"/>).</summary>
public enum EligibilityProblem
{
    /// <summary>The principal's account is disabled.</summary>
    AccountDisabled,

    /// <summary>There is no such eligibility (of this principal).</summary>
    Missing,

    /// <summary>It was removed.</summary>
    Removed,

    /// <summary>It is a group's, and the principal is not (or no longer) a member of the enabled group.</summary>
    NotHeld,

    /// <summary>Its window has not begun.</summary>
    NotStarted,

    /// <summary>Its window has ended.</summary>
    Ended,
}
