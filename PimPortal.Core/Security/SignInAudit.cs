using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;

namespace PimPortal.Core.Security;

/// <summary>Audits sign-ins and sign-outs (which happen before there is an actor to send a command as).</summary>
public sealed class SignInAudit(IDbContextFactory<PimDbContext> dbFactory, TimeProvider time, Lifecycle.Alerts.BreakGlassAlarm breakGlass)
{
    public async Task SucceededAsync(Guid principalId, string name, ClientInfo client, CancellationToken cancellationToken)
    {
        await WriteAsync(new Actor(principalId, name, new HashSet<string>()), AuditActions.SignInSucceeded, name, AuditOutcome.Success, null, principalId, client, cancellationToken);
        await breakGlass.RecordUseAsync(principalId, "signed in to PimPortal", client, cancellationToken);
    }

    public Task FailedAsync(string attemptedName, string reason, ClientInfo client, CancellationToken cancellationToken) =>
        WriteAsync(Actor.System, AuditActions.SignInFailed, attemptedName, AuditOutcome.Refused, reason, null, client, cancellationToken);

    /// <summary>A sign-in refused before its password was checked: too many attempts (<see cref="AttemptLimiter"/>).</summary>
    public Task RateLimitedAsync(string attemptedName, AttemptVerdict verdict, ClientInfo client, CancellationToken cancellationToken) =>
        WriteAsync(Actor.System, AuditActions.SignInRateLimited, attemptedName, AuditOutcome.Refused, $"too many attempts per {verdict.Limit}; retry after {verdict.RetryAfterSeconds} s", null, client, cancellationToken);

    public Task SignedOutAsync(Guid principalId, string name, ClientInfo client, CancellationToken cancellationToken) =>
        WriteAsync(new Actor(principalId, name, new HashSet<string>()), AuditActions.SignedOut, name, AuditOutcome.Success, null, principalId, client, cancellationToken);

    private async Task WriteAsync(Actor actor, string action, string name, AuditOutcome outcome, string? reason, Guid? subjectId, ClientInfo client, CancellationToken cancellationToken)
    {
        using var correlation = Correlation.Begin();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var target = name.Length > 128 ? name[..128] : name;
        db.AuditEvents.Add(AuditFactory.Create(actor, client, time.GetUtcNow(), action, "account", target, outcome, reason is null ? null : new { reason }, subjectId));
        await db.SaveChangesAsync(cancellationToken);
    }
}
