using Mediator;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.Reviews;

/// <summary>
/// A run's results for governance leads: the tally, the lines filtered and a page at a time, End now, Apply results —
/// and, while the worker applies them, its progress, re-read as batches commit (and every two seconds, for a worker of
/// another instance).
/// </summary>
public sealed partial class ReviewResultsPage : IDisposable
{
    private ReviewInstancePage? view;
    private ReviewDecision? decision;
    private string? search;
    private int pageIndex;
    private bool busy;
    private string? error;
    private CoalescingReload? reloader;
    private bool ticking;
    private int ticks;

    [Parameter]
    public Guid Id { get; set; }

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private LocalTime Local { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    private PortalEvents Events { get; set; } = default!;

    [Inject]
    private Ticker Ticker { get; set; } = default!;

    protected override void OnInitialized()
    {
        if (RendererInfo.IsInteractive)
        {
            Events.Raised += OnPortalEvent;
        }
    }

    protected override Task OnParametersSetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        try
        {
            view = await Sender.Send(new GetReviewInstance(Id, new ReviewLineFilter(decision, search), pageIndex));
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }

        // While the worker applies the results, look again now and then: it may run in another portal instance.
        var applying = RendererInfo.IsInteractive && view?.Instance.Status == ReviewInstanceStatus.Applying;
        if (applying != ticking)
        {
            ticking = applying;
            if (applying)
            {
                Ticker.Tick += OnTick;
            }
            else
            {
                Ticker.Tick -= OnTick;
            }
        }
    }

    private Task OnDecisionAsync(ReviewDecision? value)
    {
        decision = value;
        pageIndex = 0;
        return LoadAsync();
    }

    private Task OnSearchAsync(string? value)
    {
        search = value;
        pageIndex = 0;
        return LoadAsync();
    }

    private Task OnPageAsync(int selected)
    {
        pageIndex = selected - 1;
        return LoadAsync();
    }

    private async Task EndAsync()
    {
        var reason = await ReasonDialog.AskAsync(Dialogs, "End the review now", "Reviewers can no longer decide; the review's default decision is taken for what is left.", "End now", "Reason");
        if (reason is not null)
        {
            await RunAsync(() => Sender.Send(new EndReviewInstance(Id, reason)).AsTask(), "The review has ended");
        }
    }

    private Task ApplyAsync() => RunAsync(async () =>
    {
        var denials = await Sender.Send(new ApplyReviewResults(Id));
        Snackbar.Add($"Applying {denials} {(denials == 1 ? "denial" : "denials")} in the background; the progress shows here", Severity.Info);
    }, null);

    private async Task RunAsync(Func<Task> action, string? done)
    {
        busy = true;
        try
        {
            await action();
            if (done is not null)
            {
                Snackbar.Add(done, Severity.Success);
            }
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
        finally
        {
            busy = false;
        }

        await LoadAsync();
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.Kind == PortalEventKind.ReviewsChanged)
        {
            Reload();
        }
    }

    private void OnTick()
    {
        if (++ticks % 2 == 0)
        {
            Reload();
        }
    }

    private void Reload()
    {
        reloader ??= new CoalescingReload(async () =>
        {
            await LoadAsync();
            StateHasChanged();
        });
        _ = InvokeAsync(reloader.RequestAsync);
    }

    public void Dispose()
    {
        Events.Raised -= OnPortalEvent;
        Ticker.Tick -= OnTick;
    }
}
