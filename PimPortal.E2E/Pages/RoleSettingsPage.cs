namespace PimPortal.E2E.Pages;

/// <summary>A role's settings page, named after what the administrator does on it.</summary>
public sealed class RoleSettingsPage(IPage page)
{
    public ILocator Approvers => page.Locator("[data-testid=approvers]");

    /// <summary>Opens the role from the role settings list.</summary>
    public async Task OpenAsync(string role)
    {
        await page.GotoAsync("/settings");
        await Expect(page.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await page.Locator($"tr[data-role='{role}']").GetByRole(AriaRole.Link, new() { Name = role }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = role, Level = 1 })).ToBeVisibleAsync();
    }

    public Task RequireApprovalAsync() => page.GetByLabel("Require approval to activate").CheckAsync();

    /// <summary>Finds a user or group by name in the approver picker and adds it.</summary>
    public async Task AddApproverAsync(string search, string label)
    {
        await Autocomplete.PickAsync(page, page.Locator("#approver-search"), search, label);
        await Expect(Approvers).ToContainTextAsync(label);
    }

    public async Task SaveAsync(string role)
    {
        await page.Locator("[data-testid=save-settings]").ClickAsync();
        await Expect(page.GetByText($"Settings of {role} saved")).ToBeVisibleAsync();
    }
}
