using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace PimPortal.Auth;

/// <summary>
/// A circuit's authentication state, re-checked every <see cref="RevalidationInterval"/> on the portal's
/// <see cref="TimeProvider"/> (so a test moves the clock instead of waiting): when the check fails — or throws — the
/// circuit is signed out at once, and its pages fall back to the sign-in. ASP.NET Core's own
/// <see cref="RevalidatingServerAuthenticationStateProvider"/> does the same on the wall clock only.
/// </summary>
internal abstract partial class TimedRevalidation : ServerAuthenticationStateProvider, IDisposable
{
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private CancellationTokenSource? loop;

    protected TimedRevalidation(TimeProvider time, ILogger logger)
    {
        this.time = time;
        this.logger = logger;
        AuthenticationStateChanged += Restart;
    }

    protected abstract TimeSpan RevalidationInterval { get; }

    /// <summary>Whether <paramref name="user"/> may keep the circuit.</summary>
    protected abstract Task<bool> ValidateAsync(ClaimsPrincipal user, CancellationToken cancellationToken);

    public void Dispose()
    {
        AuthenticationStateChanged -= Restart;
        loop?.Cancel();
        loop?.Dispose();
    }

    private void Restart(Task<AuthenticationState> state)
    {
        loop?.Cancel();
        loop?.Dispose();
        loop = new CancellationTokenSource();
        _ = RevalidateAsync(state, loop.Token);
    }

    private async Task RevalidateAsync(Task<AuthenticationState> pending, CancellationToken cancellationToken)
    {
        try
        {
            var state = await pending;
            if (state.User.Identity?.IsAuthenticated != true)
            {
                return;
            }

            using var timer = new PeriodicTimer(RevalidationInterval, time);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                bool valid;
                try
                {
                    valid = await ValidateAsync(state.User, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // A timeout inside the check (an OperationCanceledException too) fails it; only the loop's own
                    // cancellation ends the loop without a verdict.
                    LogFailed(logger, ex);
                    valid = false;
                }

                if (!valid)
                {
                    LogSignedOut(logger, state.User.Identity?.Name);
                    SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The circuit ended, or its user changed: the next loop (if any) takes over.
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Revalidating a circuit's user failed; the circuit is signed out")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The circuit of {User} is signed out: the account may no longer use the portal")]
    private static partial void LogSignedOut(ILogger logger, string? user);
}
