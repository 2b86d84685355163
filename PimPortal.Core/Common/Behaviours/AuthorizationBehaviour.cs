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
    RequestContext context,
    Lifecycle.Alerts.BreakGlassAlarm breakGlass)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    private static readonly RequirePermissionAttribute[] Required =
        (RequirePermissionAttribute[])Attribute.GetCustomAttributes(typeof(TMessage), typeof(RequirePermissionAttribute));

    // Compiled once: every command runs this query, so it skips EF's per-query translation lookup. One row per role
    // the principal's local account holds (or one row with no role).
    private static readonly CompiledQuery<Func<PimDbContext, Guid, IAsyncEnumerable<PrincipalRow>>> PrincipalRows = new(() =>
        EF.CompileAsyncQuery((PimDbContext db, Guid id) =>
            from p in db.Principals.AsNoTracking()
            where p.Id == id
            join ur in db.UserRoles on p.Id equals ur.UserId into userRoles
            from ur in userRoles.DefaultIfEmpty()
            join r in db.Roles on ur.RoleId equals r.Id into roles
            from r in roles.DefaultIfEmpty()
            select new PrincipalRow(p.IsEnabled, p.DisplayName, db.Users.Any(u => u.Id == id), r.Name, p.IsBreakGlass)));

    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        var user = await currentUser.GetUserAsync();
        var principalId = user.GetPrincipalId() ?? throw new ForbiddenException("Sign in first.");

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            PrincipalRow? principal = null;
            var roles = new List<string>();
            await foreach (var row in PrincipalRows.For(db)(db, principalId).WithCancellation(cancellationToken))
            {
                principal = row;
                if (row.Role is { } role)
                {
                    roles.Add(role);
                }
            }

            if (principal is null)
            {
                throw new ForbiddenException("Your account is not known to the directory.");
            }

            if (!principal.IsEnabled)
            {
                throw new ForbiddenException("Your account is disabled.");
            }

            // A local account's permissions are read now from its roles, so a permission taken away counts at once;
            // an Entra user's come from the app roles in their token.
            // (IsInRole reads the identity's own role claim type: "roles" in Entra's tokens.)
            var granted = principal.HasLocalAccount ? roles : PortalPermissions.All.Where(user.IsInRole);
            var permissions = granted.Where(PortalPermissions.All.Contains).ToHashSet(StringComparer.Ordinal);
            foreach (var attribute in Required)
            {
                if (!attribute.Permissions.Any(permissions.Contains))
                {
                    throw new ForbiddenException($"This needs the {string.Join(" or ", attribute.Permissions)} permission.");
                }
            }

            context.Set(new Actor(principalId, principal.DisplayName, permissions, user.GetSessionId()), currentUser.Client);

            // Any command of a break-glass account is a use of it: raise the alarm before it runs.
            if (principal.IsBreakGlass && message is IBaseCommand)
            {
                await breakGlass.RecordUseAsync(principalId, $"ran {typeof(TMessage).Name}", currentUser.Client, cancellationToken);
            }
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

/// <summary>What the authorization behaviour reads of the acting principal: one row per role of its local account.</summary>
internal sealed record PrincipalRow(bool IsEnabled, string DisplayName, bool HasLocalAccount, string? Role, bool IsBreakGlass);
