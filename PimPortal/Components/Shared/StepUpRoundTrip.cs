using Mediator;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;

namespace PimPortal.Components.Shared;

/// <summary>
/// Entra mode: starts a Conditional Access step-up from the browser — keeps what waits for it (an activation, an
/// extension, a protected role's settings), remembers the browser's secret so only this browser can finish it, and goes
/// to Microsoft; the page named by <c>then</c> (My roles when none) resumes it on the way back.
/// </summary>
internal static class StepUpRoundTrip
{
    /// <param name="begin">The command keeping what waits, given the hash of the browser's secret.</param>
    /// <param name="then">The page on this site to come back to, e.g. <c>/settings/{id}</c>.</param>
    public static async Task StartAsync(ISender sender, IJSRuntime js, NavigationManager navigation, Func<string, BeginStepUp> begin, string? then = null)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(js);
        ArgumentNullException.ThrowIfNull(navigation);
        ArgumentNullException.ThrowIfNull(begin);
        var nonce = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var stepUp = await sender.Send(begin(StepUpChallenge.HashNonce(nonce)));
        await js.InvokeVoidAsync("pimPortal.rememberStepUp", stepUp, nonce);
        navigation.NavigateTo(then is null ? $"stepup/{stepUp}" : $"stepup/{stepUp}?then={Uri.EscapeDataString(then)}", forceLoad: true);
    }
}
