using System.Security.Claims;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Common.Behaviours;

/// <summary>
/// Every message needs a signed-in, enabled principal of the directory — checked against the database when the
/// message is handled, not when the page loaded — and the permissions its <see cref="RequirePermissionAttribute"/>
/// names. A page that forgets a check is still protected.
/// </summary>
public sealed class AuthorizationBehaviour<TMessage, TResponse>(
    ICurrentUser currentUser,
    IDbContextFactory<PimDbContext> dbFactory,
    RequestContext context)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    private static readonly RequirePermissionAttribute[] Required =
        (RequirePermissionAttribute[])Attribute.GetCustomAttributes(typeof(TMessage), typeof(RequirePermissionAttribute));

    // Compiled once: every command runs this query, so it skips EF's per-query translation lookup.
    private static readonly CompiledQuery<Func<PimDbContext, Guid, Task<PrincipalState?>>> PrincipalStatus = new(() =>
        EF.CompileAsyncQuery((PimDbContext db, Guid id) =>
            db.Principals.AsNoTracking().Where(p => p.Id == id).Select(p => new PrincipalState(p.IsEnabled, p.DisplayName)).SingleOrDefault()));

    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var user = await currentUser.GetUserAsync();
        var principalId = user.GetPrincipalId() ?? throw new ForbiddenException("Sign in first.");

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var principal = await PrincipalStatus.For(db)(db, principalId);
            if (principal is null)
            {
                throw new ForbiddenException("Your account is not known to the directory.");
            }

            if (!principal.IsEnabled)
            {
                throw new ForbiddenException("Your account is disabled.");
            }

            var permissions = user.FindAll(ClaimTypes.Role).Select(c => c.Value)
                .Where(PortalPermissions.All.Contains)
                .ToHashSet(StringComparer.Ordinal);
            foreach (var attribute in Required)
            {
                if (!attribute.Permissions.Any(permissions.Contains))
                {
                    throw new ForbiddenException($"This needs the {string.Join(" or ", attribute.Permissions)} permission.");
                }
            }

            context.Set(new Actor(principalId, principal.DisplayName, permissions), currentUser.Client);
        }

        return await next(message, cancellationToken);
    }
}

/// <summary>The message needs one of these portal permissions (several attributes: all of them).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class RequirePermissionAttribute(params string[] permissions) : Attribute
{
    public IReadOnlyList<string> Permissions { get; } = permissions;
}

/// <summary>What the authorization behaviour reads of the acting principal.</summary>
internal sealed record PrincipalState(bool IsEnabled, string DisplayName);
