namespace PimPortal.E2E.Pages;

/// <summary>Pending approvals, named after what the approver does on it.</summary>
public sealed class ApprovalsPage(IPage page)
{
    public ILocator Dialog => page.GetByRole(AriaRole.Dialog);

    public ILocator Row(string requester, string role) => page.Locator($"tr[data-requester='{requester}'][data-role='{role}']");

    public ILocator Empty => page.Locator("[data-testid=queue-empty]");

    public async Task OpenAsync()
    {
        await page.GotoAsync("/approvals");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Pending approvals" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-interactive=true]")).ToBeVisibleAsync(new() { Timeout = 20_000 });
    }

    public async Task ApproveAsync(string requester, string role, string? reason = null)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = $"Approve {requester}'s request for {role}", Exact = true }).ClickAsync();
        await Expect(Dialog).ToBeVisibleAsync();
        if (reason is not null)
        {
            await Dialog.GetByLabel("Reason (optional)").FillAsync(reason);
        }

        await Dialog.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = true }).ClickAsync();
        await Expect(Dialog).ToBeHiddenAsync();
    }
}
