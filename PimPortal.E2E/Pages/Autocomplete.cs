namespace PimPortal.E2E.Pages;

/// <summary>MudBlazor's autocomplete, as a user picks from it.</summary>
public static class Autocomplete
{
    /// <summary>
    /// Types <paramref name="search"/> and picks <paramref name="label"/> once the list shows only that search's
    /// results (opening the field lists everyone first; a click on that list as it is replaced would be lost).
    /// </summary>
    public static async Task PickAsync(IPage page, ILocator input, string search, string label, int expectedResults = 1)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(input);
        await input.FillAsync(search);
        var options = page.Locator(".mud-popover-open .mud-list-item");
        await Expect(options).ToHaveCountAsync(expectedResults);
        await options.Filter(new() { HasText = label }).ClickAsync();
    }
}
