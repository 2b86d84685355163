using Microsoft.AspNetCore.Identity;

namespace PimPortal.Core.Persistence;

/// <summary>
/// A local account of the embedded default (ASP.NET Core Identity). Its id is the id of its <c>Principal</c> in the
/// embedded directory; its authenticator key is its MFA factor.
/// </summary>
public sealed class PortalUser : IdentityUser<Guid>
{
    public string DisplayName { get; set; } = "";
}
