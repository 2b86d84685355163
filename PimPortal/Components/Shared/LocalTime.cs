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

    /// <summary>A wall-clock time the user typed (in their zone; UTC until it is known) as an instant.</summary>
    public DateTimeOffset FromLocal(System.DateTime local)
    {
        var unspecified = System.DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return _zone is null
            ? new DateTimeOffset(unspecified, TimeSpan.Zero)
            : new DateTimeOffset(unspecified, _zone.GetUtcOffset(unspecified));
    }

    /// <summary>An instant as the user's wall clock shows it, for a date-time input (yyyy-MM-ddTHH:mm).</summary>
    public string ForInput(DateTimeOffset value) =>
        (_zone is null ? value.ToUniversalTime() : TimeZoneInfo.ConvertTime(value, _zone)).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    /// <summary>The label of the zone times are shown in.</summary>
    public string ZoneName => _zone?.Id ?? "UTC";

    private string Format(DateTimeOffset value, string pattern) => _zone is null
        ? value.ToUniversalTime().ToString(pattern, CultureInfo.InvariantCulture) + " UTC"
        : TimeZoneInfo.ConvertTime(value, _zone).ToString(pattern, CultureInfo.InvariantCulture);
}
