using Mediator;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Directory;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.Directory;

/// <summary>
/// Who holds each managed role now, as the directory says; the "assigned outside the portal" alerts with "Make eligible
/// instead"; and the standing removals the outbox is still making (or gave up on). Re-read when roles change.
/// </summary>
public sealed partial class DirectoryPage : IDisposable
{
    private IReadOnlyList<DirectoryHolder>? holders;
    private IReadOnlyList<DriftView>? drift;
    private IReadOnlyList<StandingRemovalView>? removals;
    private string? error;
    private bool busy;
    private CoalescingReload? reloader;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private LocalTime Local { get; set; } = default!;

    [Inject]
    private PortalEvents Events { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        if (RendererInfo.IsInteractive)
        {
            Events.Raised += OnPortalEvent;
        }

        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        try
        {
            holders = await Sender.Send(new ListDirectoryHolders());
            drift = await Sender.Send(new GetDriftFindings());
            removals = await Sender.Send(new GetStandingRemovals());
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
    }

    private async Task ConvertAsync(DriftView finding)
    {
        busy = true;
        try
        {
            var result = await Sender.Send(new ConvertDriftToEligibility(finding.Id, "Standing access converted to just-in-time eligibility"));
            Snackbar.Add(result.Removed
                ? $"{finding.PrincipalName} is now eligible for {finding.RoleName}; the standing assignment is removed"
                : $"{finding.PrincipalName} is now eligible; the standing assignment is not removed yet: {result.Error}", result.Removed ? Severity.Success : Severity.Warning);
            await LoadAsync();
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
        finally
        {
            busy = false;
        }
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.Kind is PortalEventKind.RolesChanged or PortalEventKind.AlertsChanged)
        {
            reloader ??= new CoalescingReload(async () =>
            {
                await LoadAsync();
                StateHasChanged();
            });
            _ = InvokeAsync(reloader.RequestAsync);
        }
    }

    public void Dispose() => Events.Raised -= OnPortalEvent;
}
