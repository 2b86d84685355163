namespace PimPortal.Components.Pages.Assignments;

/// <summary>What an administrator does with one assignment from the assignments page.</summary>
public enum AssignmentAction
{
    Remove,
    Extend,
    Renew,
}
