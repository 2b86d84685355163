namespace PimPortal.Core;

/// <summary>Where a request came from, as far as the host knows.</summary>
public sealed record ClientInfo(string? Address, string? UserAgent)
{
    public static readonly ClientInfo Unknown = new(null, null);
}
