using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

/// <summary>
/// The smaller entities' own rules — principals, alerts, notifications, MFA state and step-ups — without a database
/// (mutation testing found them tested only through the handlers).
/// </summary>
public sealed class AccountAndNoticeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void APrincipal_IsLabelledByKind_RecordsItsPermissionsSorted_AndOnlyAUserIsBreakGlass()
    {
        var user = new Principal(Guid.NewGuid(), PrincipalKind.User, "Alice Adams", "alice@contoso.test");
        var group = new Principal(Guid.NewGuid(), PrincipalKind.Group, "Prod DB Operators", null);

        user.RecordPermissions(["PimAdministrator", "Auditor", "PimAdministrator"]);
        var withPermissions = user.PortalPermissions;
        user.RecordPermissions([]);

        Assert.Equal(("Alice Adams", "Prod DB Operators (group)"), (user.Label, group.Label));
        Assert.Equal("Auditor,PimAdministrator", withPermissions);
        Assert.Null(user.PortalPermissions);
        Assert.True(user.IsEnabled);
        Assert.Equal("Only a user can be a break-glass account.", Assert.Throws<DomainRuleException>(() => group.MarkBreakGlass(true)).Message);
        group.MarkBreakGlass(false);
        user.MarkBreakGlass(true);
        Assert.True(user.IsBreakGlass);
        Assert.Equal("A principal cannot be its own manager.", Assert.Throws<DomainRuleException>(() => user.SetManager(user.Id)).Message);
        user.Disable();
        Assert.False(user.IsEnabled);
        user.Enable();
        Assert.True(user.IsEnabled);
    }

    [Fact]
    public void ACredentialChange_FromTheDirectory_CountsAsAResetOnlyAfterTheFirstReport_AndOnlyWhenLater()
    {
        var user = new Principal(Guid.NewGuid(), PrincipalKind.User, "Alice Adams", "alice@contoso.test");

        var first = user.ObserveCredentialChange(Now);
        var same = user.ObserveCredentialChange(Now);
        var earlier = user.ObserveCredentialChange(Now.AddDays(-1));
        var later = user.ObserveCredentialChange(Now.AddSeconds(1));

        Assert.Equal((false, false, false, true), (first, same, earlier, later));
        Assert.Equal(Now.AddSeconds(1), user.CredentialsChangedAt);
        Assert.Equal("Only a user has credentials to reset.",
            Assert.Throws<DomainRuleException>(() => new Principal(Guid.NewGuid(), PrincipalKind.Group, "Ops", null).CredentialsReset(Now)).Message);
        user.CredentialsReset(Now.AddHours(2));
        Assert.Equal(Now.AddHours(2), user.CredentialsChangedAt);
    }

    [Fact]
    public void ARecentCredentialChange_IsOneUpToAWeekBeforeTheMoment_NotAfterIt()
    {
        var week = Principal.RecentCredentialChange;

        Assert.Equal(Now, Principal.RecentCredentialChangeBefore(Now, Now));
        Assert.Equal(Now - week, Principal.RecentCredentialChangeBefore(Now - week, Now));
        Assert.Null(Principal.RecentCredentialChangeBefore(Now - week - TimeSpan.FromSeconds(1), Now));
        Assert.Null(Principal.RecentCredentialChangeBefore(Now.AddSeconds(1), Now));
        Assert.Null(Principal.RecentCredentialChangeBefore(null, Now));
    }

    [Fact]
    public void AnAlert_IsCutToItsLengths_CountsItsOccurrences_AndResolvesOnce()
    {
        var alert = new Alert(Guid.NewGuid(), AlertKind.BreakGlassUsed, "break-glass:1", AlertSeverity.High, new string('s', 301), new string('d', 2001), null, null, null, Now);

        alert.SeenAgain("Used again", "Details", Now.AddMinutes(1));
        var afterSeen = alert.Occurrences;
        alert.SeenAgain("Used again", "Details", Now.AddMinutes(2), countOccurrence: true);
        alert.Resolve(new string('r', 501), null, Now.AddMinutes(3));

        Assert.Equal((1, 2), (afterSeen, alert.Occurrences));
        Assert.Equal(("Used again", Now.AddMinutes(2)), (alert.Summary, alert.LastSeenAt));
        Assert.Equal(500, alert.Resolution!.Length);
        Assert.False(alert.IsOpen);
        Assert.Equal("This alert is resolved already.", Assert.Throws<DomainRuleException>(() => alert.Resolve("again", null, Now)).Message);
        var cut = new Alert(Guid.NewGuid(), AlertKind.BreakGlassUsed, "k", AlertSeverity.High, new string('s', 301), new string('d', 2001), null, null, null, Now);
        Assert.Equal((300, 2000), (cut.Summary.Length, cut.Detail.Length));
        var exact = new Alert(Guid.NewGuid(), AlertKind.BreakGlassUsed, "k", AlertSeverity.High, new string('s', 300), "d", null, null, null, Now);
        Assert.Equal(300, exact.Summary.Length);
    }

    [Fact]
    public void OnlyAlertsAboutAnEvent_AreAcknowledged_AndNeverByWhomTheyInvolve()
    {
        var subject = Guid.NewGuid();
        var author = Guid.NewGuid();
        var alert = new Alert(Guid.NewGuid(), AlertKind.CredentialsReset, "k", AlertSeverity.High, "Reset", "", subject, null, null, Now) { CausedBy = author };

        Assert.Equal(
            [AlertKind.BreakGlassUsed, AlertKind.BreakGlassChanged, AlertKind.ProtectedRoleChanged, AlertKind.CredentialsReset],
            Enum.GetValues<AlertKind>().Where(Alert.IsAcknowledgeable));
        Assert.Equal((true, true, false), (alert.Involves(subject), alert.Involves(author), alert.Involves(Guid.NewGuid())));
    }

    [Fact]
    public void ANotification_IsForABellOrAMailbox_CutToItsLengths_AndItsMailIsTriedFiveTimes()
    {
        var bellOnly = new Notification(Guid.NewGuid(), Guid.NewGuid(), NotificationKind.Alert, new string('s', 201), new string('b', 4001), "/alerts", null, null, Now);
        var mailed = new Notification(Guid.NewGuid(), null, NotificationKind.Alert, "Subject", "Body", "/alerts", null, "soc@contoso.test", Now);

        Assert.Throws<ArgumentException>(() => new Notification(Guid.NewGuid(), null, NotificationKind.Alert, "Subject", "Body", "/", null, null, Now));
        Assert.Equal((200, 4000, EmailStatus.NotSent), (bellOnly.Subject.Length, bellOnly.Body.Length, bellOnly.EmailStatus));
        Assert.Equal((EmailStatus.Pending, Now), (mailed.EmailStatus, mailed.EmailDueAt));
        Assert.Equal("A notification whose email is notsent is not sent again.", Assert.Throws<DomainRuleException>(() => bellOnly.ClaimEmail(Now)).Message);

        bellOnly.MarkRead(Now);
        bellOnly.MarkRead(Now.AddHours(1));
        Assert.Equal(Now, bellOnly.ReadAt);

        for (var attempt = 1; attempt < Notification.MaxEmailAttempts; attempt++)
        {
            mailed.ClaimEmail(Now.AddMinutes(attempt));
            mailed.EmailFailed(attempt == 1 ? new string('e', 1001) : "Connection refused", Now.AddMinutes(attempt + 1));
            Assert.Equal((attempt, EmailStatus.Pending), (mailed.EmailAttempts, mailed.EmailStatus));
        }

        mailed.EmailFailed("Connection refused", Now.AddHours(1));
        Assert.Equal((Notification.MaxEmailAttempts, EmailStatus.Failed, Now.AddHours(1)), (mailed.EmailAttempts, mailed.EmailStatus, mailed.EmailDueAt));
        Assert.Equal("A notification whose email is failed is not sent again.", Assert.Throws<DomainRuleException>(() => mailed.ClaimEmail(Now)).Message);

        var sent = new Notification(Guid.NewGuid(), null, NotificationKind.Alert, "Subject", "Body", "/alerts", null, "soc@contoso.test", Now);
        sent.EmailFailed(new string('e', 1001), Now.AddMinutes(1));
        Assert.Equal(1000, sent.EmailError!.Length);
        sent.EmailSent(Now.AddMinutes(2));
        Assert.Equal((EmailStatus.Sent, (DateTimeOffset?)Now.AddMinutes(2), (string?)null), (sent.EmailStatus, sent.EmailSentAt, sent.EmailError));
    }

    [Fact]
    public void AnMfaState_VoidedAfterAReset_SparesNoCodeInAnySession_ButUsedCodesStayUsed()
    {
        var state = new MfaState(Guid.NewGuid());
        state.Verified(100, "session-1", Now);
        var version = state.Version;

        state.VoidProof();

        Assert.Equal((null, null), (state.VerifiedIn("session-1"), state.LastVerifiedAt));
        Assert.NotEqual(version, state.Version);
        Assert.Equal("This code was already used.", Assert.Throws<DomainRuleException>(() => state.Verified(100, "session-1", Now)).Message);
        state.Verified(101, "session-2", Now.AddSeconds(30));
        Assert.Equal((Now.AddSeconds(30), (DateTimeOffset?)null), (state.VerifiedIn("session-2"), state.VerifiedIn("session-1")));
        Assert.Null(state.VerifiedIn(null));
    }

    [Fact]
    public void AnMfaState_LocksAfterFiveWrongCodes_ForTheLockout_AndARightCodeClearsTheCount()
    {
        var state = new MfaState(Guid.NewGuid());
        for (var i = 0; i < MfaState.MaxFailedAttempts - 1; i++)
        {
            state.Failed(Now, TimeSpan.FromMinutes(5));
        }

        Assert.Equal((4, false), (state.FailedAttempts, state.IsLockedAt(Now)));
        state.Failed(Now, TimeSpan.FromMinutes(5));
        Assert.Equal((0, true, true, false), (state.FailedAttempts, state.IsLockedAt(Now), state.IsLockedAt(Now.AddMinutes(5).AddSeconds(-1)), state.IsLockedAt(Now.AddMinutes(5))));
        state.Failed(Now, TimeSpan.FromMinutes(5));
        state.Verified(1, null, Now.AddMinutes(6));
        Assert.Equal((0, false), (state.FailedAttempts, state.IsLockedAt(Now)));
    }

    [Fact]
    public void AnAuditEvent_KeepsWhereItCameFrom_WithTheUserAgentCut_AndTheActionsAreListedOnceInOrder()
    {
        var audit = new AuditEvent(Now, Guid.NewGuid(), "Erin Evans", AuditActions.CredentialsReset, "principal", "p1", AuditOutcome.Success, null)
            .From("203.0.113.7", new string('u', 513), "corr-1");
        var exact = new AuditEvent(Now, null, "PimPortal", AuditActions.AlertRaised, "alert", "a1", AuditOutcome.Success, null).From(null, new string('u', 512), null);

        Assert.Equal(("203.0.113.7", 512, "corr-1", "Erin Evans"), (audit.ClientAddress, audit.UserAgent!.Length, audit.CorrelationId, audit.ActorName));
        Assert.Equal(512, exact.UserAgent!.Length);
        Assert.Throws<ArgumentException>(() => new AuditEvent(Now, null, "PimPortal", " ", "alert", "a1", AuditOutcome.Success, null));
        Assert.Throws<ArgumentException>(() => new AuditEvent(Now, null, "PimPortal", AuditActions.AlertRaised, "", "a1", AuditOutcome.Success, null));
        Assert.Equal(AuditActions.All.Order(StringComparer.Ordinal), AuditActions.All);
        Assert.Equal(AuditActions.All.Count, AuditActions.All.Distinct(StringComparer.Ordinal).Count());
        Assert.Contains(AuditActions.CredentialsReset, AuditActions.All);
        Assert.Contains(AuditActions.ActivationRequested, AuditActions.All);
        Assert.True(AuditActions.All.Count > 50);
    }

    [Fact]
    public void AStepUp_HoldsADraftUpToItsSize_IsVerifiedOnce_AndUsedOnce()
    {
        Assert.Equal("What waits for the step-up is too large.",
            Assert.Throws<DomainRuleException>(() => new StepUpChallenge(Guid.NewGuid(), Guid.NewGuid(), new string('x', StepUpChallenge.MaxDraftLength + 1), Now)).Message);
        var challenge = new StepUpChallenge(Guid.NewGuid(), Guid.NewGuid(), new string('x', StepUpChallenge.MaxDraftLength), Now, StepUpChallenge.HashNonce("nonce-1"));

        challenge.Verified("c1", Now.AddMinutes(1));
        var again = Assert.Throws<DomainRuleException>(() => challenge.Verified("c1", Now.AddMinutes(2)));
        challenge.Use(Now.AddMinutes(2));
        var reused = Assert.Throws<DomainRuleException>(() => challenge.Use(Now.AddMinutes(3)));

        Assert.Equal("This step-up was already verified.", again.Message);
        Assert.Equal("This verification was already used; verify again.", reused.Message);
        Assert.Equal(("c1", (DateTimeOffset?)Now.AddMinutes(1), (DateTimeOffset?)Now.AddMinutes(2)), (challenge.Context, challenge.VerifiedAt, challenge.UsedAt));
        Assert.Equal((true, false, false), (challenge.StartedIn("nonce-1"), challenge.StartedIn("nonce-2"), challenge.StartedIn("")));
        var unused = new StepUpChallenge(Guid.NewGuid(), Guid.NewGuid(), "{}", Now);
        unused.Use(Now);
        Assert.Equal("This step-up was already verified.", Assert.Throws<DomainRuleException>(() => unused.Verified("c1", Now)).Message);
        Assert.False(unused.StartedIn("nonce-1"));
    }
}
