using Mediator;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.Assignments;

/// <summary>
/// Eligible and active assignments for PIM administrators: filtered by role and holder, a page at a time, with assign,
/// remove, extend and renew. Live: another administrator's change, an activation or an expiry re-reads the page.
/// </summary>
public sealed partial class AssignmentsPage : IDisposable
{
    private const int PageSize = 50;
    private static readonly DialogOptions DialogDefaults = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true };

    private IReadOnlyList<RoleSummary>? roles;
    private AssignmentPage? listing;
    private int tab;
    private int pageIndex;
    private Guid? roleFilter;
    private string? holder;
    private bool includeEnded;
    private string? error;
    private int readVersion;

    /// <summary>The role to show first (from a link, e.g. an alert's).</summary>
    [SupplyParameterFromQuery(Name = "role")]
    public Guid? RoleQuery { get; set; }

    /// <summary>Only eligibilities not activated in this many days (from a stale-eligibility alert).</summary>
    [SupplyParameterFromQuery(Name = "stale")]
    public int? StaleQuery { get; set; }

    private int? staleDays;

    /// <summary><c>active</c> to open on the active assignments.</summary>
    [SupplyParameterFromQuery(Name = "tab")]
    public string? TabQuery { get; set; }

    [Inject]
    private ISender Sender { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

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

        roleFilter = RoleQuery;
        staleDays = StaleQuery is > 0 ? StaleQuery : null;
        tab = string.Equals(TabQuery, "active", StringComparison.OrdinalIgnoreCase) ? 1 : string.Equals(TabQuery, "break-glass", StringComparison.OrdinalIgnoreCase) ? 2 : 0;
        try
        {
            roles = await Sender.Send(new ListRoleSettings(WithCounts: false));
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }

        await ReloadAsync();
    }

    private Task OnTabAsync(int index)
    {
        tab = index;
        pageIndex = 0;
        listing = null;
        return ReloadAsync();
    }

    private async Task ReloadAsync()
    {
        if (tab > 1)
        {
            return;
        }

        var version = ++readVersion;
        try
        {
            var result = await Sender.Send(new ListAssignments(tab == 0 ? AssignmentKind.Eligible : AssignmentKind.Active, roleFilter, holder, includeEnded, pageIndex, PageSize,
                tab == 0 ? staleDays : null));
            if (version == readVersion)
            {
                listing = result;
            }
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
    }

    private Task OnRoleFilterAsync(Guid? value)
    {
        roleFilter = value;
        pageIndex = 0;
        return ReloadAsync();
    }

    private Task OnHolderAsync(string? value)
    {
        holder = value;
        pageIndex = 0;
        return ReloadAsync();
    }

    private Task OnIncludeEndedAsync(bool value)
    {
        includeEnded = value;
        pageIndex = 0;
        return ReloadAsync();
    }

    private Task ClearStaleAsync()
    {
        staleDays = null;
        pageIndex = 0;
        return ReloadAsync();
    }

    private Task OnPageAsync(int selected)
    {
        pageIndex = selected - 1;
        return ReloadAsync();
    }

    private async Task AssignAsync()
    {
        var parameters = new DialogParameters<AssignDialog>
        {
            { d => d.Roles, roles ?? [] },
            { d => d.InitialKind, tab == 1 ? AssignmentKind.Active : AssignmentKind.Eligible },
            { d => d.InitialRoleId, roleFilter },
        };
        var dialog = await Dialogs.ShowAsync<AssignDialog>("Add assignment", parameters, DialogDefaults);
        var result = await dialog.Result;
        if (result is { Canceled: false })
        {
            Snackbar.Add("Assigned", Severity.Success);
            await ReloadAsync();
        }
    }

    private async Task ChangeAsync(AssignmentRow row, AssignmentAction action)
    {
        var parameters = new DialogParameters<ChangeAssignmentDialog>
        {
            { d => d.Row, row },
            { d => d.Action, action },
            { d => d.IsEligibility, tab == 0 },
        };
        if (action != AssignmentAction.Remove)
        {
            try
            {
                var rules = (await Sender.Send(new GetRoleSettings(row.RoleId))).Settings;
                parameters.Add(d => d.AllowPermanent, rules.AllowPermanentEligibility);
                parameters.Add(d => d.MaxDays, rules.MaxEligibilityDays);
            }
            catch (PimException ex)
            {
                error = ex.Message;
                return;
            }
        }

        var title = action switch
        {
            AssignmentAction.Remove => "Remove assignment",
            AssignmentAction.Extend => "Extend eligibility",
            _ => "Renew eligibility",
        };
        var dialog = await Dialogs.ShowAsync<ChangeAssignmentDialog>(title, parameters, DialogDefaults);
        var result = await dialog.Result;
        if (result is { Canceled: false })
        {
            Snackbar.Add(action switch
            {
                AssignmentAction.Remove => $"{row.PrincipalName}'s {row.RoleName} removed",
                AssignmentAction.Extend => $"{row.PrincipalName}'s eligibility extended",
                _ => $"{row.PrincipalName}'s eligibility renewed",
            }, Severity.Success);
            await ReloadAsync();
        }
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.Kind == PortalEventKind.RolesChanged)
        {
            reloader ??= new CoalescingReload(async () =>
            {
                await ReloadAsync();
                StateHasChanged();
            });
            _ = InvokeAsync(reloader.RequestAsync);
        }
    }

    private CoalescingReload? reloader;

    private static Color StateColor(AssignmentState state) => state switch
    {
        AssignmentState.Current => Color.Success,
        AssignmentState.EndingSoon => Color.Warning,
        AssignmentState.Upcoming or AssignmentState.Provisioning => Color.Info,
        _ => Color.Default,
    };

    private string StateText(AssignmentRow row) => row.State switch
    {
        AssignmentState.Current when tab == 0 => "Valid",
        AssignmentState.Current when row.IsAssignment => "Assigned",
        AssignmentState.Current => "Activated",
        AssignmentState.EndingSoon => "Ends soon",
        AssignmentState.Upcoming => "Starts later",
        AssignmentState.Provisioning => "Being written",
        AssignmentState.Ended => "Ended",
        _ => "Removed",
    };

    public void Dispose() => Events.Raised -= OnPortalEvent;
}
