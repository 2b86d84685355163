using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Accounts;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Alerts;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Accounts;

public sealed class ResetCredentialsOnSqlite() : ResetCredentialsTests(DatabaseKind.Sqlite);

public sealed class ResetCredentialsOnPostgreSql() : ResetCredentialsTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ResetCredentialsOnSqlServer() : ResetCredentialsTests(DatabaseKind.SqlServer);
#endif

/// <summary>
/// The helpdesk attack: an administrator resets an eligible user's password and authenticator, then signs in as them.
/// What the user had proved or had approved before does not carry over; the reset is audited and alerted.
/// </summary>
public abstract class ResetCredentialsTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;

    [Fact]
    public async Task AfterAHelpdeskReset_TheNextActivationNeedsAFreshStepUp_WithTheNewKey_AndWhatWaitedForApprovalLapses()
    {
        await App.MakePimAdministratorAsync(DemoOrganisation.Bob.Id);
        await App.ActivateAsync(Alice, DemoOrganisation.UserAdministrator);
        var waiting = await RequestGlobalAdministratorAsync(Alice);
        var contributor = new ActivateRoles([new ActivationItem(await App.EligibilityOf(Alice, DemoOrganisation.ContributorOnRgProd), TimeSpan.FromHours(1))], "Deploy", null, null, null);
        var stampBefore = await App.Db(db => db.Users.AsNoTracking().Where(u => u.Id == Alice.Id).Select(u => u.SecurityStamp).SingleAsync());

        var issued = await App.SendAs(Erin, new ResetCredentials(Alice.Id, Password: true, Authenticator: true, "Lost phone, ticket HD-4411"));
        App.NextCodeStep();
        var withoutCode = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, contributor));
        var oldKey = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Alice, contributor with { AuthenticatorCode = App.CodeFor(Alice) }));
        var newAuthenticator = Alice with { TotpSecret = issued.AuthenticatorKey! };
        var activated = Assert.Single((await App.SendAs(Alice, contributor with { AuthenticatorCode = App.CodeFor(newAuthenticator) })).Items);

        Assert.Contains("requires multi-factor authentication", withoutCode.Message, StringComparison.Ordinal);
        Assert.Equal("The authenticator code is wrong or has expired.", oldKey.Message);
        Assert.NotNull(activated.ActivationId);
        var request = await App.Db(db => db.ActivationRequests.AsNoTracking().SingleAsync(r => r.Id == waiting));
        Assert.Equal(ActivationRequestStatus.Lapsed, request.Status);
        Assert.Contains("password and authenticator of the account were reset", request.ClosedReason, StringComparison.Ordinal);

        // The password: the new one signs in, the demo's no longer does; every session of the account ends.
        var account = await App.Db(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == Alice.Id));
        var hasher = new PasswordHasher<PortalUser>();
        Assert.Equal(PasswordVerificationResult.Success, hasher.VerifyHashedPassword(account, account.PasswordHash!, issued.TemporaryPassword!));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(account, account.PasswordHash!, DemoOrganisation.Password));
        Assert.NotEqual(stampBefore, account.SecurityStamp);
        Assert.Matches("^[A-Za-z2-9]{5}(-[A-Za-z2-9]{5}){3}$", issued.TemporaryPassword!);
        Assert.StartsWith($"otpauth://totp/PimPortal%3Aalice%40contoso.test?secret={issued.AuthenticatorKey}&issuer=PimPortal", issued.AuthenticatorUri, StringComparison.Ordinal);

        // Audited without the secrets; alerted to the other PIM administrators; the user is told.
        var audit = Assert.Single(await App.AuditAsync(AuditActions.CredentialsReset));
        Assert.Equal(((Guid?)Erin.Id, (Guid?)Alice.Id), (audit.ActorId, audit.SubjectId));
        Assert.Contains("\"what\":\"password and authenticator\"", audit.Details, StringComparison.Ordinal);
        Assert.Contains("Lost phone, ticket HD-4411", audit.Details, StringComparison.Ordinal);
        Assert.Contains("\"requestsLapsed\":1", audit.Details, StringComparison.Ordinal);
        Assert.DoesNotContain(await App.AuditAsync(), e => e.Details is { } d && (d.Contains(issued.TemporaryPassword!, StringComparison.Ordinal) || d.Contains(issued.AuthenticatorKey!, StringComparison.Ordinal)));
        var alert = Assert.Single(await App.Db(db => db.Alerts.AsNoTracking().Where(a => a.Kind == AlertKind.CredentialsReset).ToListAsync()));
        Assert.Equal(("The password and authenticator of Alice Adams were reset by Erin Evans", AlertSeverity.High, (Guid?)Alice.Id, (Guid?)Erin.Id),
            (alert.Summary, alert.Severity, alert.PrincipalId, alert.CausedBy));
        Assert.Contains("The one request that was waiting lapsed.", alert.Detail, StringComparison.Ordinal);
        Assert.Contains(await App.NotificationsAsync(DemoOrganisation.Bob), n => n.Kind == NotificationKind.Alert && n.Subject == alert.Summary);
        Assert.DoesNotContain(await App.NotificationsAsync(Erin), n => n.Kind == NotificationKind.Alert);
        Assert.Contains(await App.NotificationsAsync(Alice), n => n.Subject == "Your password and authenticator were reset");
        Assert.Contains(await App.NotificationsAsync(Alice), n => n.Kind == NotificationKind.RequestClosed && n.RequestId == waiting);
    }

    [Fact]
    public async Task TheResetsAlert_IsAcknowledged_NeitherByItsAuthor_NorByTheAccount_ButByAnotherAdministrator()
    {
        // Alice is a PIM administrator too here: the account reset must not explain its own reset away.
        await App.MakePimAdministratorAsync(Alice.Id);
        await App.MakePimAdministratorAsync(DemoOrganisation.Bob.Id);
        var alice = Alice with { Permission = PortalPermissions.PimAdministrator };
        var bob = DemoOrganisation.Bob with { Permission = PortalPermissions.PimAdministrator };
        await App.SendAs(Erin, new ResetCredentials(Alice.Id, Password: true, Authenticator: false, "Forgot password, ticket HD-4412"));
        var alert = await App.Db(db => db.Alerts.AsNoTracking().SingleAsync(a => a.Kind == AlertKind.CredentialsReset));

        var byAuthor = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new AcknowledgeAlert(alert.Id, "I did it")));
        var byAccount = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(alice, new AcknowledgeAlert(alert.Id, "It was me")));
        await App.SendAs(bob, new AcknowledgeAlert(alert.Id, "Called Alice back on her desk phone: she asked for it"));

        Assert.Contains("your own account", byAuthor.Message, StringComparison.Ordinal);
        Assert.Contains("your own account", byAccount.Message, StringComparison.Ordinal);
        Assert.Equal("The password of Alice Adams was reset by Erin Evans", alert.Summary);
        Assert.False((await App.Db(db => db.Alerts.AsNoTracking().SingleAsync(a => a.Id == alert.Id))).IsOpen);
        Assert.Equal(AlertRemediation.Acknowledge, Assert.Single(await App.QueryAs(bob, new GetAlerts(true)), a => a.Id == alert.Id).Remediation);
    }

    [Fact]
    public async Task AResetThatCannotBeDone_IsRefused_SayingWhy_AndChangesNothing()
    {
        var stamp = await App.Db(db => db.Users.AsNoTracking().Where(u => u.Id == Erin.Id).Select(u => u.SecurityStamp).SingleAsync());

        var own = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new ResetCredentials(Erin.Id, true, true, "Mine")));
        var nothing = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Erin, new ResetCredentials(Alice.Id, false, false, "Nothing")));
        var noReason = await Assert.ThrowsAsync<ValidationFailedException>(() => App.SendAs(Erin, new ResetCredentials(Alice.Id, true, false, " ")));
        var group = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new ResetCredentials(DemoOrganisation.ProdDbOperatorsGroupId, true, false, "A group")));
        var unknown = await Assert.ThrowsAsync<NotFoundException>(() => App.SendAs(Erin, new ResetCredentials(Guid.NewGuid(), true, false, "Nobody")));
        var notAdmin = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(DemoOrganisation.Bob, new ResetCredentials(Alice.Id, true, true, "Helping")));

        Assert.Equal("You cannot reset your own credentials here; ask another PIM administrator.", own.Message);
        Assert.Contains("Choose what to reset: the password, the authenticator, or both.", nothing.Message, StringComparison.Ordinal);
        Assert.Contains("Say why", noReason.Message, StringComparison.Ordinal);
        Assert.Equal("Prod DB Operators (group) has no local sign-in to reset.", group.Message);
        Assert.Equal("That account is not in the directory.", unknown.Message);
        Assert.NotNull(notAdmin);
        Assert.Equal(stamp, await App.Db(db => db.Users.AsNoTracking().Where(u => u.Id == Erin.Id).Select(u => u.SecurityStamp).SingleAsync()));
        Assert.Empty(await App.AuditAsync(AuditActions.CredentialsReset));
        Assert.Equal(0, await App.CountAsync<Alert>());
    }

    [Fact]
    public async Task ARequestMadeSoonAfterAReset_ShowsItsApproversTheReset_ForAWeek()
    {
        var issued = await App.SendAs(Erin, new ResetCredentials(Alice.Id, Password: false, Authenticator: true, "Lost phone, ticket HD-4413"));
        var resetAt = App.Time.GetUtcNow();
        var alice = Alice with { TotpSecret = issued.AuthenticatorKey! };
        App.NextCodeStep();
        var soon = await RequestGlobalAdministratorAsync(alice, App.CodeFor(alice));
        var queued = Assert.Single((await App.QueryAs(DemoOrganisation.Bob, new GetApprovalQueue())).Items);
        var details = await App.QueryAs(DemoOrganisation.Bob, new GetRequestDetails(soon));
        await App.SendAs(alice, new CancelActivationRequest(soon));
        App.Time.Advance(Principal.RecentCredentialChange + TimeSpan.FromMinutes(1));
        await RequestGlobalAdministratorAsync(alice, App.CodeFor(alice));
        var later = Assert.Single((await App.QueryAs(DemoOrganisation.Bob, new GetApprovalQueue())).Items);

        Assert.Equal(resetAt, queued.RequesterCredentialsResetAt);
        Assert.Equal(resetAt, details.Request.RequesterCredentialsResetAt);
        Assert.Null(later.RequesterCredentialsResetAt);
    }

    private async Task<Guid> RequestGlobalAdministratorAsync(DemoAccount who, string? code = null) =>
        Assert.Single((await App.SendAs(who, new ActivateRoles(
            [new ActivationItem(await App.EligibilityOf(who, DemoOrganisation.GlobalAdministrator), TimeSpan.FromHours(1))],
            "Tenant-wide change", "CHG-7", "ServiceNow", code))).Items).RequestId;
}
