using System.Globalization;

namespace PimPortal.E2E.Pages;

/// <summary>My roles, named after what the user does on it.</summary>
public sealed class MyRolesPage(IPage page)
{
    public ILocator Dialog => page.GetByRole(AriaRole.Dialog);

    public ILocator DialogError => Dialog.GetByRole(AriaRole.Alert);

    /// <summary>Waits until the circuit is connected: prerendered buttons do nothing before that.</summary>
    public Task WaitUntilInteractiveAsync() =>
        Expect(page.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });

    public ILocator ActiveRow(string role) => page.Locator($"section[aria-labelledby=active-heading] tr[data-role='{role}']");

    public ILocator TimeLeft(string role) => ActiveRow(role).Locator(".time-left");

    /// <summary>Opens the activation dialog for one role and fills it in (the code only when asked for).</summary>
    public async Task ActivateAsync(string role, double hours, string why, string? code, string? ticket = null)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = $"Activate {role}", Exact = true }).ClickAsync();
        await SubmitDialogAsync(hours, why, code, ticket);
    }

    public ILocator PendingRow(string role) => page.Locator($"section[aria-labelledby=pending-heading] tr[data-role='{role}']");

    /// <summary>Selects several roles and activates them together.</summary>
    public async Task ActivateTogetherAsync(IReadOnlyList<string> roles, double hours, string why, string? code)
    {
        foreach (var role in roles)
        {
            await page.GetByRole(AriaRole.Checkbox, new() { Name = $"Select {role}", Exact = true }).CheckAsync();
        }

        await page.GetByRole(AriaRole.Button, new() { Name = $"Activate selected ({roles.Count})" }).ClickAsync();
        await SubmitDialogAsync(hours, why, code);
    }

    public Task DeactivateAsync(string role) =>
        page.GetByRole(AriaRole.Button, new() { Name = $"Deactivate {role}", Exact = true }).ClickAsync();

    private async Task SubmitDialogAsync(double hours, string why, string? code, string? ticket = null)
    {
        await Expect(Dialog).ToBeVisibleAsync();
        await Dialog.GetByLabel("Duration").FillAsync(hours.ToString(CultureInfo.InvariantCulture));
        await Dialog.GetByLabel("Justification").FillAsync(why);
        if (ticket is not null)
        {
            await Dialog.GetByLabel("Ticket number").FillAsync(ticket);
            await Dialog.GetByLabel("Ticket system").FillAsync("ServiceNow");
        }

        if (code is not null)
        {
            await Dialog.GetByLabel("Authenticator code").FillAsync(code);
        }

        await Dialog.GetByRole(AriaRole.Button, new() { Name = "Activate", Exact = true }).ClickAsync();
    }
}
