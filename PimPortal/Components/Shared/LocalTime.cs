using System.Globalization;

namespace PimPortal.Components.Shared;

/// <summary>
/// The circuit user's time zone (read once from the browser), so times show as the user's clock does. Until it is
/// known — while prerendering, or if the browser does not say — times show in UTC, labelled so.
/// </summary>
public sealed class LocalTime
{
    private TimeZoneInfo? _zone;

    public event Action? Changed;

    public void SetZone(string? ianaName)
    {
        if (string.IsNullOrWhiteSpace(ianaName) || !TimeZoneInfo.TryFindSystemTimeZoneById(ianaName, out var zone) || zone.Equals(_zone))
        {
            return;
        }

        _zone = zone;
        Changed?.Invoke();
    }

    /// <summary>Date and time, e.g. "27 Nov 2026 14:05".</summary>
    public string DateTime(DateTimeOffset value) => Format(value, "d MMM yyyy HH:mm");

    /// <summary>Time of day with seconds, e.g. "14:05:07".</summary>
    public string Time(DateTimeOffset value) => Format(value, "HH:mm:ss");

    private string Format(DateTimeOffset value, string pattern) => _zone is null
        ? value.ToUniversalTime().ToString(pattern, CultureInfo.InvariantCulture) + " UTC"
        : TimeZoneInfo.ConvertTime(value, _zone).ToString(pattern, CultureInfo.InvariantCulture);
}
