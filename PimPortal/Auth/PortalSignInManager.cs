using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core;
using PimPortal.Core.Persistence;

namespace PimPortal.Auth;

/// <summary>
/// Identity's sign-in manager, refusing accounts whose directory principal is disabled, and giving every sign-in its
/// own session id (an MFA proof spares further codes only within the session that gave it).
/// </summary>
internal sealed class PortalSignInManager(
    UserManager<PortalUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<PortalUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<PortalUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<PortalUser> confirmation,
    IDbContextFactory<PimDbContext> dbFactory)
    : SignInManager<PortalUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    public override Task SignInWithClaimsAsync(PortalUser user, AuthenticationProperties? authenticationProperties, IEnumerable<Claim> additionalClaims)
    {
        var claims = additionalClaims.ToList();
        if (!claims.Exists(c => c.Type == ClaimsPrincipalExtensions.SessionClaim))
        {
            claims.Add(new Claim(ClaimsPrincipalExtensions.SessionClaim, Guid.NewGuid().ToString("N")));
        }

        return base.SignInWithClaimsAsync(user, authenticationProperties, claims);
    }

    public override async Task<bool> CanSignInAsync(PortalUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!await base.CanSignInAsync(user))
        {
            return false;
        }

        await using var db = await dbFactory.CreateDbContextAsync();
        return await db.Principals.AnyAsync(p => p.Id == user.Id && p.IsEnabled);
    }
}
