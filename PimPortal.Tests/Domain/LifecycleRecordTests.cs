using PimPortal.Core.Domain;

namespace PimPortal.Tests.Domain;

/// <summary>
/// The records the lifecycle moves along — eligibilities, review runs, standing removals, outbox messages — as rules
/// of their own, without a database (mutation testing found them tested only through the handlers and workers).
/// </summary>
public sealed class LifecycleRecordTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AnEligibility_IsExtendedOnlyWhileTimeBoundAndCurrent_ToALaterEnd_OrMadePermanent()
    {
        var ending = Eligibility(Now.AddDays(10));
        ending.NoticeSent(Now);
        ending.ExtendTo(Now.AddDays(10).AddSeconds(1), Now);
        var noticeAfterExtension = ending.EndingNoticeSentAt;
        ending.ExtendTo(null, Now);

        Assert.Null(noticeAfterExtension);
        Assert.True(ending.IsPermanent);
        Assert.Equal("This eligibility is permanent already.", Refused(() => ending.ExtendTo(Now.AddDays(20), Now)));
        Assert.Equal("An extension must end after the current end (2026-12-07 09:00 UTC).", Refused(() => Eligibility(Now.AddDays(10)).ExtendTo(Now.AddDays(10), Now)));
        Assert.Equal("This eligibility has ended; renew it instead.", Refused(() => Eligibility(Now.AddDays(10)).ExtendTo(Now.AddDays(20), Now.AddDays(10))));
        var removed = Eligibility(Now.AddDays(10));
        removed.Remove(Now);
        Assert.Equal("A removed eligibility cannot be extended; assign a new one.", Refused(() => removed.ExtendTo(Now.AddDays(20), Now)));
        Assert.Equal("An eligibility must end after it starts.",
            Refused(() => new RoleEligibility(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", Now, Now, Guid.NewGuid(), Now)));
        Eligibility(Now.AddDays(-1).AddSeconds(1));
    }

    [Fact]
    public void AnEligibilitysNoticeAndEnd_AreRecordedOnce_AtTheirFirstMoment_InUtc()
    {
        var eligibility = new RoleEligibility(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", Now.ToOffset(TimeSpan.FromHours(2)), Now.AddDays(3).ToOffset(TimeSpan.FromHours(-5)), Guid.NewGuid(), Now);

        eligibility.NoticeSent(Now);
        eligibility.NoticeSent(Now.AddHours(1));
        eligibility.EndRecorded(Now.AddDays(3));
        eligibility.EndRecorded(Now.AddDays(4));

        Assert.Equal((Now, Now.AddDays(3)), (eligibility.EndingNoticeSentAt, eligibility.EndRecordedAt));
        Assert.Equal((TimeSpan.Zero, TimeSpan.Zero), (eligibility.NotBefore.Offset, eligibility.NotAfter!.Value.Offset));
        Assert.False(eligibility.IsPermanent);
    }

    [Fact]
    public void AReviewRun_IsOpenUntilItsEnd_RemindsOnceHalfway_AndIsAppliedOnceAfterItEnds()
    {
        var run = new AccessReviewInstance(Guid.NewGuid(), Guid.NewGuid(), 1, Now, Now.AddDays(14), ReviewInstanceStatus.Active);

        Assert.Equal(Now.AddDays(7), run.ReminderDueAt);
        Assert.Equal((true, false), (run.IsOpenAt(Now.AddDays(14).AddSeconds(-1)), run.IsOpenAt(Now.AddDays(14))));
        Assert.Equal("The results can be applied once the review has ended.", Refused(() => run.BeginApplying()));
        run.Opened(42);
        run.Reminded(Now.AddDays(7));
        Assert.Equal("The reminder was sent already.", Refused(() => run.Reminded(Now.AddDays(8))));
        Assert.Equal("Only results being applied can be marked applied.", Refused(() => run.MarkApplied(Now)));

        var lead = Guid.NewGuid();
        run.Complete(Now.AddDays(14));
        Assert.False(run.IsOpenAt(Now.AddDays(1)));
        Assert.Equal("This review is not open.", Refused(() => run.Complete(Now.AddDays(14))));
        run.RequestApplying(lead);
        Assert.Equal("These results are being applied already.", Refused(() => run.RequestApplying(lead)));
        run.BeginApplying(Guid.NewGuid());
        Assert.Equal((ReviewInstanceStatus.Applying, (Guid?)lead), (run.Status, run.AppliedBy));
        run.MarkApplied(Now.AddDays(15));

        Assert.Equal((42, (DateTimeOffset?)Now.AddDays(7), (DateTimeOffset?)Now.AddDays(14), (DateTimeOffset?)Now.AddDays(15), ReviewInstanceStatus.Applied),
            (run.ItemCount, run.ReminderSentAt, run.CompletedAt, run.AppliedAt, run.Status));
        Assert.Equal("The results were applied already.", Refused(() => run.BeginApplying()));
    }

    [Fact]
    public void ARunCompletedByTheWorker_IsAppliedInNobodysName_AndEveryStepChangesItsVersion()
    {
        var run = new AccessReviewInstance(Guid.NewGuid(), Guid.NewGuid(), 2, Now, Now.AddDays(1), ReviewInstanceStatus.Active);
        var versions = new HashSet<Guid> { run.Version };

        run.Opened(1);
        versions.Add(run.Version);
        run.Reminded(Now);
        versions.Add(run.Version);
        run.Complete(Now.AddDays(1));
        versions.Add(run.Version);
        run.BeginApplying();
        versions.Add(run.Version);
        run.MarkApplied(Now.AddDays(1));
        versions.Add(run.Version);

        Assert.Null(run.AppliedBy);
        Assert.Equal(6, versions.Count);
    }

    [Fact]
    public void AStandingRemoval_EndsOnce_RemovedOrFailed_WithItsErrorCut()
    {
        var removed = Removal();
        var failed = Removal();

        removed.Removed(Now);
        failed.Failed(new string('e', StandingRemoval.MaxErrorLength + 1), Now);

        Assert.Equal((StandingRemovalStatus.Removed, (DateTimeOffset?)Now, (string?)null), (removed.Status, removed.CompletedAt, removed.Error));
        Assert.Equal((StandingRemovalStatus.Failed, StandingRemoval.MaxErrorLength), (failed.Status, failed.Error!.Length));
        Assert.Equal("This standing removal is removed already.", Refused(() => removed.Failed("late", Now)));
        Assert.Equal("This standing removal is failed already.", Refused(() => failed.Removed(Now)));
        var exact = Removal();
        exact.Failed(new string('e', StandingRemoval.MaxErrorLength), Now);
        Assert.Equal(StandingRemoval.MaxErrorLength, exact.Error!.Length);
        Assert.Equal((StandingRemovalStatus.Pending, Now), (Removal().Status, Removal().RequestedAt));
    }

    [Fact]
    public void AnOutboxMessage_CountsItsAttempts_CutsItsError_AndIsReleasedByEveryOutcome()
    {
        var message = new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, Guid.NewGuid(), Now);
        Assert.Equal((Now, Now, 0), (message.CreatedAt, message.DueAt, message.Attempts));

        message.Failed(new string('e', 2001), Now.AddMinutes(1));
        Assert.Equal((1, 2000, Now.AddMinutes(1), (DateTimeOffset?)null), (message.Attempts, message.LastError!.Length, message.DueAt, message.LockedUntil));
        message.Failed("Throttled", Now.AddMinutes(2));
        message.Abandoned(new string('e', 2001), Now.AddMinutes(3));
        Assert.Equal((3, 2000, (DateTimeOffset?)Now.AddMinutes(3)), (message.Attempts, message.LastError!.Length, message.ProcessedAt));

        var delivered = new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, Guid.NewGuid(), Now);
        delivered.Failed("Throttled", Now);
        delivered.Completed(Now.AddMinutes(1));
        Assert.Equal(((DateTimeOffset?)Now.AddMinutes(1), (string?)null, 1), (delivered.ProcessedAt, delivered.LastError, delivered.Attempts));
        var exact = new OutboxMessage(Guid.NewGuid(), OutboxMessageType.ProvisionGrant, Guid.NewGuid(), Now);
        exact.Failed(new string('e', 2000), Now);
        Assert.Equal(2000, exact.LastError!.Length);
    }

    [Fact]
    public void ARole_NeedsAName_AnExternalId_AScope_AndSettings()
    {
        var settings = new RoleSettings(TimeSpan.FromHours(8), true, true, false);
        var role = new PrivilegedRole(Guid.NewGuid(), RoleKind.GroupMembership, "Prod DB Operators", "9d0b0000-0000-4000-8000-0000000000a1", "member", settings);

        Assert.Equal((RoleKind.GroupMembership, "Prod DB Operators", "9d0b0000-0000-4000-8000-0000000000a1", "member", settings),
            (role.Kind, role.DisplayName, role.ExternalId, role.Scope, role.Settings));
        Assert.Throws<ArgumentException>(() => new PrivilegedRole(Guid.NewGuid(), RoleKind.DirectoryRole, " ", "x", "/", settings));
        Assert.Throws<ArgumentException>(() => new PrivilegedRole(Guid.NewGuid(), RoleKind.DirectoryRole, "Role", "", "/", settings));
        Assert.Throws<ArgumentException>(() => new PrivilegedRole(Guid.NewGuid(), RoleKind.DirectoryRole, "Role", "x", " ", settings));
        Assert.Throws<ArgumentNullException>(() => new PrivilegedRole(Guid.NewGuid(), RoleKind.DirectoryRole, "Role", "x", "/", null!));
    }

    [Fact]
    public void ADriftFinding_IsSeenAgain_AndResolvedOnce_WithItsFirstReason()
    {
        var finding = new DriftFinding(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", Now);

        finding.SeenAgain(Now.AddHours(1));
        var open = finding.IsOpen;
        finding.Resolve(Now.AddHours(2));
        finding.Resolve(Now.AddHours(3), "converted");

        Assert.Equal((Now, Now.AddHours(1), true, false), (finding.FirstSeenAt, finding.LastSeenAt, open, finding.IsOpen));
        Assert.Equal(((DateTimeOffset?)Now.AddHours(2), "gone from the directory"), (finding.ResolvedAt, finding.Resolution));
    }

    [Fact]
    public void TheTrailsCheckpointsAndPrunings_KeepWhatTheyAreGiven_AndRefuseAnEmptyOrBackwardRange()
    {
        byte[] before = [1, 2], after = [3, 4];
        var checkpoint = new AuditCheckpoint(2, 11, 20, 10, before, after, Now, Now.AddMinutes(1), Now.AddMinutes(2));
        var prune = new AuditPrune(0, 20, 2, 20, after, "archive-1.jsonl", "abc123", Now.AddDays(400));

        Assert.Equal((2L, 11L, 20L, 10L, Now, Now.AddMinutes(1), Now.AddMinutes(2)),
            (checkpoint.Sequence, checkpoint.FirstEventId, checkpoint.LastEventId, checkpoint.EventCount, checkpoint.FirstOccurredAt, checkpoint.LastOccurredAt, checkpoint.SealedAt));
        Assert.Equal((before, after), (checkpoint.PreviousHash, checkpoint.Hash));
        Assert.Equal((0L, 20L, 2L, 20L, "archive-1.jsonl", "abc123", Now.AddDays(400)),
            (prune.AfterEventId, prune.ThroughEventId, prune.ThroughCheckpoint, prune.EventCount, prune.ArchiveFile, prune.ArchiveSha256, prune.PrunedAt));
        Assert.Equal(after, prune.BoundaryHash);
        Assert.Throws<ArgumentOutOfRangeException>(() => new AuditCheckpoint(0, 1, 1, 1, before, after, Now, Now, Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AuditCheckpoint(1, 1, 1, 0, before, after, Now, Now, Now));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AuditCheckpoint(1, 5, 4, 1, before, after, Now, Now, Now));
        Assert.Throws<ArgumentException>(() => new AuditPrune(0, 1, 1, 1, after, " ", "abc", Now));
        Assert.Throws<ArgumentException>(() => new AuditPrune(0, 1, 1, 1, after, "archive", "", Now));
    }

    private static RoleEligibility Eligibility(DateTimeOffset? end) =>
        new(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "/", Now.AddDays(-1), end, Guid.NewGuid(), Now.AddDays(-1));

    private static StandingRemoval Removal() =>
        new(Guid.NewGuid(), StandingRemovalSource.Rollout, Guid.NewGuid(), Guid.NewGuid(), "/", Now.AddYears(-1), Guid.NewGuid(), null, "Rollout wave 1", Guid.NewGuid(), "Erin Evans", Now);

    private static string Refused(Action action) => Assert.Throws<DomainRuleException>(action).Message;
}
