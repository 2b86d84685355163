using System.Globalization;
using PimPortal.Core.Domain;
using PimPortal.Core.Policy;

namespace PimPortal.Components.Shared;

/// <summary>How the portal words and formats what it shows.</summary>
internal static class Display
{
    public static string Kind(RoleKind kind) => kind switch
    {
        RoleKind.DirectoryRole => "Directory role",
        RoleKind.GroupMembership => "Group membership",
        RoleKind.AzureResourceRole => "Azure resource role",
        _ => kind.ToString(),
    };

    public static string Scope(RoleKind kind, string scope) => kind switch
    {
        RoleKind.DirectoryRole when scope == "/" => "Directory",
        RoleKind.GroupMembership => "Group",
        _ => scope,
    };

    public static string Duration(TimeSpan value) => ActivationPolicy.Format(value);

    /// <summary>Time left as h:mm:ss (with days when longer), never negative.</summary>
    public static string TimeLeft(TimeSpan left)
    {
        if (left <= TimeSpan.Zero)
        {
            return "0:00:00";
        }

        var whole = TimeSpan.FromSeconds(Math.Ceiling(left.TotalSeconds));
        return whole.Days > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{whole.Days} d {whole.Hours}:{whole.Minutes:00}:{whole.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{whole.Hours}:{whole.Minutes:00}:{whole.Seconds:00}");
    }

    /// <summary>How close the end is: normal, soon (30 minutes or less), imminent (5 minutes or less), ended.</summary>
    public static string Urgency(TimeSpan left) => left switch
    {
        _ when left <= TimeSpan.Zero => "ended",
        _ when left <= TimeSpan.FromMinutes(5) => "imminent",
        _ when left <= TimeSpan.FromMinutes(30) => "soon",
        _ => "normal",
    };
}
