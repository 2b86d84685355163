using Mediator;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Features.Notifications;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.Approvals;

/// <summary>
/// The approver's queue. Live: a new request, or another approver's decision, re-reads the pages shown so far — no
/// reload. The right to decide is checked by Core when the decision is sent, not here.
/// </summary>
public sealed partial class ApprovalsPage : IDisposable
{
    private static readonly DialogOptions DialogDefaults = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true };

    private List<QueueItem> items = [];
    private QueueCursor? next;
    private bool loaded;
    private bool? mailEnabled;
    private string? error;
    private int pages = 1;
    private int readVersion;

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private PortalEvents Events { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    private LocalTime Local { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        // Subscribe before the first await: a circuit closed during the first read still unsubscribes in Dispose.
        if (RendererInfo.IsInteractive)
        {
            Events.Raised += OnPortalEvent;
            Local.Changed += OnLocalTimeChanged;
        }

        await ReloadAsync();
        try
        {
            mailEnabled = (await Sender.Send(new GetMyNotifications(1))).MailEnabled;
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
    }

    /// <summary>Reads again as many pages as are shown, from the start; a newer read wins over an older one still running.</summary>
    private async Task ReloadAsync()
    {
        var version = ++readVersion;
        try
        {
            var fresh = new List<QueueItem>();
            QueueCursor? cursor = null;
            for (var page = 0; page < pages; page++)
            {
                var result = await Sender.Send(new GetApprovalQueue(cursor));
                fresh.AddRange(result.Items);
                cursor = result.Next;
                if (cursor is null)
                {
                    break;
                }
            }

            if (version == readVersion)
            {
                items = fresh;
                next = cursor;
            }
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }

        loaded = true;
    }

    private async Task LoadMoreAsync()
    {
        var version = ++readVersion;
        try
        {
            var result = await Sender.Send(new GetApprovalQueue(next));
            if (version == readVersion)
            {
                items.AddRange(result.Items.Where(i => !items.Exists(shown => shown.RequestId == i.RequestId)));
                next = result.Next;
                pages++;
            }
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
    }

    private async Task DecideAsync(QueueItem item, ApprovalVerdict verdict)
    {
        var parameters = new DialogParameters<DecisionDialog> { { d => d.Request, item }, { d => d.Verdict, verdict } };
        var title = verdict == ApprovalVerdict.Approve ? $"Approve {item.RoleName}" : $"Deny {item.RoleName}";
        var dialog = await Dialogs.ShowAsync<DecisionDialog>(title, parameters, DialogDefaults);
        if (await dialog.Result is { Canceled: false, Data: DecisionResult result })
        {
            var (text, severity) = DecisionMessage.For(result, item, Local);
            Snackbar.Add(text, severity);
            await ReloadAsync();
        }
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.Kind == PortalEventKind.ApprovalsChanged)
        {
            _ = InvokeAsync(async () =>
            {
                await ReloadAsync();
                StateHasChanged();
            });
        }
    }

    private void OnLocalTimeChanged() => _ = InvokeAsync(StateHasChanged);

    public void Dispose()
    {
        Events.Raised -= OnPortalEvent;
        Local.Changed -= OnLocalTimeChanged;
    }
}
