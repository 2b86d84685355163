using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>
/// Entra mode's sign-in: the signed-in user becomes (or stays) a principal of the portal's directory, keyed by their
/// object id, with their name as the token says; a principal disabled in the portal is refused. Audited.
/// </summary>
public sealed class EntraSignIn(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Lifecycle.Alerts.BreakGlassAlarm breakGlass)
{
    /// <summary>Why the sign-in is refused, or null when the user may go on.</summary>
    public async Task<string?> AdmitAsync(ClaimsPrincipal token, ClientInfo client, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var now = time.GetUtcNow();
        var oid = token.FindFirst(StepUpEvidence.ObjectIdClaim)?.Value ?? token.FindFirst("oid")?.Value;
        if (!Guid.TryParse(oid, out var id))
        {
            return "The token carries no object id.";
        }

        var name = token.FindFirst("name")?.Value ?? token.Identity?.Name ?? id.ToString();
        var upn = token.FindFirst("preferred_username")?.Value ?? token.FindFirst(ClaimTypes.Upn)?.Value;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var principal = await db.Principals.SingleOrDefaultAsync(p => p.Id == id, cancellationToken);
        var actor = new Actor(id, name, new HashSet<string>());
        if (principal is null)
        {
            principal = new Principal(id, PrincipalKind.User, name, upn);
            db.Principals.Add(principal);
            db.AuditEvents.Add(AuditFactory.Create(actor, client, now, AuditActions.PrincipalProvisioned, "principal", id.ToString(), AuditOutcome.Success,
                new { source = "entra sign-in", name, upn }, id));
        }

        // Remember the app roles it signed in with, so "every PIM administrator" can be told without a token at hand.
        principal.RecordPermissions(token.Claims.Where(c => c.Type is "roles" or ClaimTypes.Role).Select(c => c.Value).Where(PortalPermissions.All.Contains));
        var refusal = principal.IsEnabled ? null : "Your account is disabled in PimPortal.";
        db.AuditEvents.Add(AuditFactory.Create(actor, client, now, refusal is null ? AuditActions.SignInSucceeded : AuditActions.SignInFailed, "principal", id.ToString(),
            refusal is null ? AuditOutcome.Success : AuditOutcome.Refused, new { method = "entra", reason = refusal }, id));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (DbErrors.IsUniqueViolation(ex))
        {
            // The same user signing in twice at once: the other sign-in made the principal.
            return null;
        }

        if (refusal is null && principal.IsBreakGlass)
        {
            await breakGlass.RecordUseAsync(id, "signed in to PimPortal through Entra ID", client, cancellationToken);
        }

        return refusal;
    }
}
