using Mediator;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using PimPortal.Components.Shared;
using PimPortal.Core;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Signals;

namespace PimPortal.Components.Pages.MyRoles;

/// <summary>
/// My roles: what the user may activate, what is active (with a live countdown) and what waits for approval.
/// Re-reads itself when the user's roles change anywhere in this instance (the outbox confirming a grant, expiry,
/// another tab), so Provisioning turns into Active without a reload.
/// </summary>
public sealed partial class MyRolesPage : IDisposable
{
    private Core.Features.Activation.MyRoles? model;
    private string filter = "";
    private string? error;
    private bool busy;
    private Guid me;

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

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    /// <summary>Entra mode: back from a step-up, the activation it was for completes.</summary>
    [SupplyParameterFromQuery(Name = "resume")]
    public Guid? Resume { get; set; }

    [SupplyParameterFromQuery(Name = "stepup-failed")]
    public Guid? StepUpFailed { get; set; }

    protected override async Task OnInitializedAsync()
    {
        // Subscribe before the first await: a circuit closed during the first read still unsubscribes in Dispose.
        if (RendererInfo.IsInteractive)
        {
            Events.Raised += OnPortalEvent;
            Local.Changed += OnLocalTimeChanged;
        }

        me = (await AuthenticationState).User.GetPrincipalId() ?? Guid.Empty;
        if (RendererInfo.IsInteractive && Resume is { } stepUp)
        {
            await ResumeAsync(stepUp);
        }
        else if (StepUpFailed is not null)
        {
            error = "That verification is not yours, was already used, or has expired; activate again.";
        }

        await LoadAsync();
    }

    private async Task ResumeAsync(Guid stepUp)
    {
        try
        {
            var outcome = await Sender.Send(new ResumeStepUp(stepUp));
            foreach (var item in outcome.Activation?.Items ?? [])
            {
                Snackbar.Add(item.ActivationId is not null ? $"{item.RoleName}: activating" : $"{item.RoleName}: waiting for approval", Severity.Success);
            }

            if (outcome.Extension is { } extension)
            {
                Snackbar.Add(extension.NewNotAfter is { } end ? $"Extended until {Local.Time(end)}" : "The extension waits for approval", Severity.Success);
            }
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }

        // Resumed once: the address no longer says to.
        Navigation.NavigateTo("/", replace: true);
    }

    private async Task LoadAsync()
    {
        try
        {
            model = await Sender.Send(new GetMyRoles());
        }
        catch (PimException ex)
        {
            error = ex.Message;
        }
    }

    private void OnPortalEvent(PortalEvent portalEvent)
    {
        if (portalEvent.PrincipalId == me && portalEvent.Kind == PortalEventKind.RolesChanged)
        {
            _ = InvokeAsync(async () =>
            {
                await LoadAsync();
                StateHasChanged();
            });
        }
    }

    private void OnLocalTimeChanged() => _ = InvokeAsync(StateHasChanged);

    private void OnFilterChanged(string? value) => filter = value ?? "";

    private IReadOnlyList<T> Filtered<T>(IReadOnlyList<T> items, Func<T, string> name, Func<T, string> scope) =>
        string.IsNullOrWhiteSpace(filter)
            ? items
            : [.. items.Where(i => name(i).Contains(filter.Trim(), StringComparison.OrdinalIgnoreCase)
                                    || scope(i).Contains(filter.Trim(), StringComparison.OrdinalIgnoreCase))];

    private async Task ActivateAsync(IReadOnlyList<EligibleRole> roles)
    {
        var parameters = new DialogParameters<ActivationDialog> { { d => d.Roles, roles } };
        var title = roles.Count == 1 ? $"Activate {roles[0].RoleName}" : $"Activate {roles.Count} roles";
        var dialog = await Dialogs.ShowAsync<ActivationDialog>(title, parameters, DialogDefaults);
        if (await dialog.Result is { Canceled: false, Data: ActivationResult result })
        {
            foreach (var item in result.Items)
            {
                Snackbar.Add(item.ActivationId is not null ? $"{item.RoleName}: activating" : $"{item.RoleName}: waiting for approval", Severity.Success);
            }

            await LoadAsync();
        }
    }

    private async Task ExtendAsync(ActiveRole role)
    {
        var parameters = new DialogParameters<ActivationDialog> { { d => d.Extending, role } };
        var dialog = await Dialogs.ShowAsync<ActivationDialog>($"Extend {role.RoleName}", parameters, DialogDefaults);
        if (await dialog.Result is { Canceled: false, Data: ExtensionResult result })
        {
            Snackbar.Add(result.NewNotAfter is { } end ? $"{role.RoleName} now ends at {Local.Time(end)}" : $"{role.RoleName}: extension waits for approval", Severity.Success);
            await LoadAsync();
        }
    }

    private Task DeactivateAsync(IReadOnlyList<ActiveRole> roles) =>
        RunAsync(new DeactivateRoles([.. roles.Select(r => r.ActivationId)]),
            roles.Count == 1 ? $"{roles[0].RoleName} deactivated" : $"{roles.Count} roles deactivated");

    private Task CancelAsync(PendingRequest request) =>
        RunAsync(new CancelActivationRequest(request.RequestId), $"Request for {request.RoleName} cancelled");

    private async Task RunAsync<TResponse>(ICommand<TResponse> command, string done)
    {
        busy = true;
        error = null;
        try
        {
            await Sender.Send(command);
            Snackbar.Add(done, Severity.Success);
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

    private static readonly DialogOptions DialogDefaults = new() { MaxWidth = MaxWidth.Small, FullWidth = true, CloseOnEscapeKey = true };

    public void Dispose()
    {
        Events.Raised -= OnPortalEvent;
        Local.Changed -= OnLocalTimeChanged;
    }
}
