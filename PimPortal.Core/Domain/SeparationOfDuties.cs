namespace PimPortal.Core.Domain;

/// <summary>
/// Separation of duties: nobody decides on what is their own — their own request, their own access in a review, a role
/// given to themselves, the break-glass mark or alert of their own account. "Their own" is themselves and every group
/// they are a member of (a group's access is its members'). Another administrator, approver or reviewer does it.
/// </summary>
public static class SeparationOfDuties
{
    /// <summary>Whether <paramref name="subject"/> is <paramref name="actor"/> or one of the groups <paramref name="actorGroups"/>.</summary>
    public static bool IsOwn(Guid actor, IEnumerable<Guid> actorGroups, Guid subject)
    {
        ArgumentNullException.ThrowIfNull(actorGroups);
        return subject == actor || actorGroups.Contains(subject);
    }

    /// <summary>The principals that are <paramref name="actor"/>'s own, for queries (<c>!own.Contains(line.PrincipalId)</c>).</summary>
    public static IReadOnlyList<Guid> OwnOf(Guid actor, IEnumerable<Guid> actorGroups) => [actor, .. actorGroups.Where(g => g != actor)];
}
