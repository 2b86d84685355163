namespace PimPortal.E2E.Pages;

/// <summary>MudBlazor's autocomplete, as a user picks from it.</summary>
public static class Autocomplete
{
    /// <summary>
    /// Opens the field, waits for the list it opens with (everyone: the search for no text), then types
    /// <paramref name="search"/> and picks <paramref name="label"/> once the list shows only that search's results.
    /// Typing before the opening list has arrived lets that slower search land last and replace the typed one's results
    /// (seen under the whole suite's load: the list stayed at everyone, with the text typed).
    /// </summary>
    public static async Task PickAsync(IPage page, ILocator input, string search, string label, int expectedResults = 1)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(input);
        var options = page.Locator(".mud-popover-open .mud-list-item");
        await input.ClickAsync();
        await Expect(options.First).ToBeVisibleAsync();
        await input.FillAsync(search);
        await Expect(options).ToHaveCountAsync(expectedResults);
        await options.Filter(new() { HasText = label }).ClickAsync();
    }
}
