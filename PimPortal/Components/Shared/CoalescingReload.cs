namespace PimPortal.Components.Shared;

/// <summary>
/// Re-reads a page once however many events arrive while it reads: a burst (an expiry batch of 250 grants, a settings
/// change seen by 500 eligible users) costs one more read, not hundreds. Used from the renderer's context only
/// (events are marshalled with InvokeAsync), so no locking is needed.
/// </summary>
internal sealed class CoalescingReload(Func<Task> reload)
{
    private bool running;
    private bool again;

    public async Task RequestAsync()
    {
        if (running)
        {
            again = true;
            return;
        }

        running = true;
        try
        {
            do
            {
                again = false;
                await reload();
            }
            while (again);
        }
        finally
        {
            running = false;
        }
    }
}
