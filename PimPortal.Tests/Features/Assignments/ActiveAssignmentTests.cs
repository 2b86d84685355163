using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Features.Assignments;

public sealed class ActiveAssignmentsOnSqlite() : ActiveAssignmentTests(DatabaseKind.Sqlite);

public sealed class ActiveAssignmentsOnPostgreSql() : ActiveAssignmentTests(DatabaseKind.PostgreSql);

#if SQLSERVER_TESTS
public sealed class ActiveAssignmentsOnSqlServer() : ActiveAssignmentTests(DatabaseKind.SqlServer);
#endif

/// <summary>A PIM administrator assigns a role active: time-bound, permanent only where the role allows; written to the directory and ended on time.</summary>
public abstract class ActiveAssignmentTests(DatabaseKind kind) : HandlerTests(kind)
{
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;

    [Fact]
    public async Task TimeBound_IsWrittenToTheDirectory_AndEndsOnTime()
    {
        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(3), "Migration weekend"));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var holders = await App.QueryAs(Erin, new ListDirectoryHolders());
        var mine = await App.QueryAs(Dave, new GetMyRoles());
        App.Time.Advance(TimeSpan.FromDays(3));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var held = Assert.Single(holders, h => h.PrincipalId == Dave.Id);
        Assert.Equal((false, (DateTimeOffset?)TestApp.Start.AddDays(3)), (held.IsStanding, held.Until));
        var active = Assert.Single(mine.Active);
        Assert.Equal((true, false, (Guid?)null), (active.IsAssignment, active.IsPermanent, active.EligibilityId));
        var ended = await App.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Expired, Erin.Id), (ended.Status, ended.AssignedBy!.Value));
        Assert.NotNull(ended.RemovedFromDirectoryAt);
        Assert.Single(await App.AuditAsync(AuditActions.ActiveAssigned));
    }

    [Fact]
    public async Task Permanent_IsRefusedUnlessTheRoleAllowsIt_ThenHasNoEnd()
    {
        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, null, "Standing")));
        var tooLong = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(181), "Long")));
        await App.UpdateSettingsAsync(Exchange, s => s with { AllowPermanentActiveAssignment = true });

        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, null, "Mail operations lead"));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);
        App.Time.Advance(TimeSpan.FromDays(3650));
        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal("An active assignment of this role cannot be permanent (only a break-glass account's can); it may last at most 180 days.", refused.Message);
        Assert.Equal("An active assignment of this role may last at most 180 days (until 2027-05-26).", tooLong.Message);
        var assignment = await App.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Active, true), (assignment.Status, assignment.IsPermanent));
        var inDirectory = await App.Db(db => db.DirectoryAssignments.SingleAsync(a => a.ActivationId == id));
        Assert.Null(inDirectory.ExpiresAt);
        Assert.True((await App.QueryAs(Dave, new GetMyRoles())).Active.Single().IsPermanent);
    }

    [Fact]
    public async Task ABreakGlassAccount_MayBeAssignedPermanently_WhateverTheRoleAllowsOthers()
    {
        await App.SendAs(Erin, new SetBreakGlass(Dave.Id, true, "Second emergency account"));

        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, DemoOrganisation.GlobalAdministrator.Id, null, "Emergency access"));

        Assert.True((await App.ActivationAsync(id)).IsPermanent);
    }

    [Fact]
    public async Task AssigningOneselfActive_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<ForbiddenException>(() =>
            App.SendAs(Erin, new AssignActive(Erin.Id, DemoOrganisation.GlobalAdministrator.Id, TestApp.Start.AddHours(4), "Quick fix")));

        Assert.Equal("You cannot assign roles to yourself or to a group you are in; ask another PIM administrator.", refused.Message);
        Assert.Empty(await App.AuditAsync(AuditActions.ActiveAssigned));
    }

    [Fact]
    public async Task TheBreakGlassMark_CannotBeTakenWhileItsPermanentAccessStands()
    {
        await App.SendAs(Erin, new SetBreakGlass(Dave.Id, true, "Second emergency account"));
        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, DemoOrganisation.GlobalAdministrator.Id, null, "Emergency access"));

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new SetBreakGlass(Dave.Id, false, "Retired")));
        await App.SendAs(Erin, new RemoveActiveAssignment(id, "Retired"));
        await App.SendAs(Erin, new SetBreakGlass(Dave.Id, false, "Retired"));

        Assert.Equal("Dave Davis holds a permanent assignment made for a break-glass account; remove it first.", refused.Message);
        Assert.Equal(2, (await App.AuditAsync(AuditActions.AlertRaised)).Count);
        Assert.Equal(2, (await App.NotificationsAsync(Erin)).Count(n => n.Kind == NotificationKind.Alert));
    }

    [Fact]
    public async Task MarkingOnesOwnAccountBreakGlass_IsRefused()
    {
        var refused = await Assert.ThrowsAsync<ForbiddenException>(() => App.SendAs(Erin, new SetBreakGlass(Erin.Id, true, "Me")));

        Assert.Equal("You cannot mark or unmark your own account as break-glass; ask another PIM administrator.", refused.Message);
    }

    [Fact]
    public async Task APermanentAssignmentTheRoleNoLongerAllows_RaisesAnAlert_UntilRemoved()
    {
        await App.UpdateSettingsAsync(Exchange, s => s with { AllowPermanentActiveAssignment = true });
        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, null, "Mail operations lead"));
        await App.UpdateSettingsAsync(Exchange, s => s with { AllowPermanentActiveAssignment = false });
        var evaluator = App.Services.GetRequiredService<Core.Lifecycle.Alerts.AlertEvaluator>();

        await evaluator.EvaluateAsync(CancellationToken.None);
        var raised = (await App.QueryAs(Erin, new Core.Features.Alerts.GetAlerts())).Single(a => a.Kind == AlertKind.PermanentAssignmentNotAllowed);
        await App.SendAs(Erin, new RemoveActiveAssignment(raised.SubjectId!.Value, "No more standing access"));
        await evaluator.EvaluateAsync(CancellationToken.None);

        Assert.Equal(("Dave Davis holds Exchange Administrator permanently, which the role no longer allows", id), (raised.Summary, raised.SubjectId!.Value));
        Assert.DoesNotContain(await App.QueryAs(Erin, new Core.Features.Alerts.GetAlerts()), a => a.Kind == AlertKind.PermanentAssignmentNotAllowed);
    }

    [Fact]
    public async Task TheHolder_CannotDeactivateOrExtendIt_AnAdministratorRemovesIt()
    {
        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(3), "Migration weekend"));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        var deactivate = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Dave, new DeactivateRoles([id])));
        var extend = await Assert.ThrowsAsync<RefusedException>(() => App.SendAs(Dave, new ExtendActivation(id, TimeSpan.FromHours(8), "More", null, null, null)));
        await App.SendAs(Erin, new RemoveActiveAssignment(id, "Migration finished early"));
        await App.Outbox.ProcessBatchAsync(CancellationToken.None);

        Assert.Equal("An active assignment made by an administrator is removed by a PIM administrator, not deactivated.", deactivate.Message);
        Assert.Equal("This role was assigned to you active by a PIM administrator; ask them to extend the assignment.", extend.Message);
        var removed = await App.ActivationAsync(id);
        Assert.Equal((ActivationStatus.Revoked, Erin.Id), (removed.Status, removed.EndedBy!.Value));
        Assert.NotNull(removed.RemovedFromDirectoryAt);
        Assert.Single(await App.AuditAsync(AuditActions.ActiveAssignmentRemoved));
    }

    [Fact]
    public async Task Assign_WhileTheRoleIsHeld_IsRefused()
    {
        await App.ActivateAsync(DemoOrganisation.Alice, Exchange);

        var refused = await Assert.ThrowsAsync<DomainRuleException>(() => App.SendAs(Erin, new AssignActive(DemoOrganisation.Alice.Id, Exchange.Id, TestApp.Start.AddDays(1), "Again")));

        Assert.Equal("Alice Adams holds Exchange Administrator already.", refused.Message);
    }

    [Fact]
    public async Task DisablingTheHolder_RevokesIt()
    {
        var id = await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(3), "Migration weekend"));
        await App.ChangeAsync(async db => (await db.Principals.SingleAsync(p => p.Id == Dave.Id)).Disable());

        await App.Expiry.ExpireDueAsync(CancellationToken.None);

        Assert.Equal(ActivationStatus.Revoked, (await App.ActivationAsync(id)).Status);
    }

    [Fact]
    public async Task ActiveList_ShowsAssignmentsAndActivations()
    {
        await App.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(3), "Migration weekend"));
        await App.ActivateAsync(DemoOrganisation.Alice, Exchange);

        var page = await App.QueryAs(Erin, new ListAssignments(AssignmentKind.Active, Exchange.Id));

        Assert.Equal([("Alice Adams", false), ("Dave Davis", true)], page.Rows.Select(r => (r.PrincipalName, r.IsAssignment)));
    }
}
