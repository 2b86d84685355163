using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Features.Settings;

/// <summary>A user or group as pickers show it.</summary>
public sealed record PrincipalRef(Guid Id, string DisplayName, PrincipalKind Kind, string? UserPrincipalName, bool IsEnabled)
{
    public string Label => Kind == PrincipalKind.Group ? $"{DisplayName} (group)" : UserPrincipalName is null ? DisplayName : $"{DisplayName} ({UserPrincipalName})";

    /// <summary>The principals of <paramref name="ids"/>, as pickers show them.</summary>
    internal static async Task<IReadOnlyList<PrincipalRef>> ListAsync(PimDbContext db, IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken)
    {
        var list = ids.ToList();
        var found = await db.Principals.AsNoTracking().Where(p => list.Contains(p.Id))
            .Select(p => new PrincipalRef(p.Id, p.DisplayName, p.Kind, p.UserPrincipalName, p.IsEnabled))
            .ToListAsync(cancellationToken);
        return [.. found.OrderBy(p => p.DisplayName, StringComparer.Ordinal)];
    }
}
