using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PimPortal.Core.Persistence;

namespace PimPortal.Auth;

/// <summary>
/// Local accounts: re-checks a connected circuit's user every minute — a changed security stamp, a locked or disabled
/// account signs the circuit out, so an open tab does not outlive the account. (Every command also checks, in
/// PimPortal.Core.)
/// </summary>
internal sealed class PortalAuthenticationStateProvider(
    ILogger<PortalAuthenticationStateProvider> logger,
    IServiceScopeFactory scopeFactory,
    IOptions<IdentityOptions> options,
    TimeProvider time)
    : TimedRevalidation(time, logger)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var userManager = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var signInManager = scope.ServiceProvider.GetRequiredService<SignInManager<PortalUser>>();
        var account = await userManager.GetUserAsync(user);
        if (account is null || !await signInManager.CanSignInAsync(account))
        {
            return false;
        }

        var stamp = user.FindFirstValue(options.Value.ClaimsIdentity.SecurityStampClaimType);
        return stamp == await userManager.GetSecurityStampAsync(account);
    }
}
