using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;

namespace PimPortal.Auth;

/// <summary>Identity's sign-in manager, refusing accounts whose directory principal is disabled.</summary>
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
