using PimPortal.Core.Domain;

namespace PimPortal.Components.Pages.Reviews;

/// <summary>The words the review pages use for the review's settings and states.</summary>
internal static class ReviewText
{
    public static string Reviewers(ReviewerKind kind) => kind switch
    {
        ReviewerKind.Self => "The principals themselves",
        ReviewerKind.Manager => "Their managers",
        _ => "Named reviewers",
    };

    public static string Frequency(ReviewFrequency frequency) => frequency switch
    {
        ReviewFrequency.OneTime => "One time",
        ReviewFrequency.SemiAnnual => "Semi-annual",
        _ => frequency.ToString(),
    };

    public static string Status(ReviewInstanceStatus status) => status switch
    {
        ReviewInstanceStatus.Active => "In progress",
        ReviewInstanceStatus.Completed => "Ended, not applied",
        ReviewInstanceStatus.Applying => "Applying",
        ReviewInstanceStatus.Applied => "Applied",
        _ => "Missed",
    };

    public static string Decision(ReviewDecision decision) => decision switch
    {
        ReviewDecision.Approve => "Approve",
        ReviewDecision.Deny => "Deny",
        ReviewDecision.DontKnow => "Don't know",
        _ => "Not reviewed",
    };

    public static string DefaultDecision(ReviewDefaultDecision decision) => decision switch
    {
        ReviewDefaultDecision.Approve => "Approve access",
        ReviewDefaultDecision.Remove => "Remove access",
        ReviewDefaultDecision.Recommendation => "Take the recommendation",
        _ => "No change",
    };

    public static string Assignments(ReviewAssignments assignments) => assignments switch
    {
        ReviewAssignments.Eligible => "Eligible assignments",
        ReviewAssignments.Active => "Active assignments",
        _ => "Eligible and active assignments",
    };

    public static IEnumerable<string> Flags(ReviewItemFlags flags)
    {
        if (flags.HasFlag(ReviewItemFlags.Disabled))
        {
            yield return "Account disabled";
        }

        if (flags.HasFlag(ReviewItemFlags.NeverActivated))
        {
            yield return "Never activated";
        }

        if (flags.HasFlag(ReviewItemFlags.Group))
        {
            yield return "Group";
        }
    }
}
