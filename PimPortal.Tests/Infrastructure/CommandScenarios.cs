using System.Data.Common;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Features.Alerts;
using PimPortal.Core.Features.Approvals;
using PimPortal.Core.Features.Assignments;
using PimPortal.Core.Features.Directory;
using PimPortal.Core.Features.Notifications;
using PimPortal.Core.Features.Reviews;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Jobs;
using PimPortal.Core.Lifecycle.Alerts;
using PimPortal.Core.Seed;

namespace PimPortal.Tests.Infrastructure;

/// <summary>
/// Every command the system has, as its user would send it, with what it needs arranged first: the audit invariant
/// runs each as its user, the authorization matrix as everybody. A new command without a scenario fails both.
/// </summary>
public static class CommandScenarios
{
    private static readonly DemoRole Exchange = DemoOrganisation.ExchangeAdministrator;
    private static readonly DemoAccount Alice = DemoOrganisation.Alice;
    private static readonly DemoAccount Bob = DemoOrganisation.Bob;
    private static readonly DemoAccount Erin = DemoOrganisation.Erin;
    private static readonly DemoAccount Dave = DemoOrganisation.Dave;

    /// <summary>Per command: arrange what it needs, and the command as its user would send it.</summary>
    public static readonly IReadOnlyDictionary<Type, Func<TestApp, Task<(DemoAccount Actor, object Command)>>> All = new Dictionary<Type, Func<TestApp, Task<(DemoAccount Actor, object Command)>>>
    {
        [typeof(ActivateRoles)] = async app =>
            (Alice, new ActivateRoles([new ActivationItem(await app.EligibilityOf(Alice, Exchange), TimeSpan.FromHours(1))], "Mailbox move", null, null, null)),
        [typeof(ExtendActivation)] = async app =>
            (Alice, new ExtendActivation((await app.ActivateAsync(Alice, Exchange)).ActivationId!.Value, TimeSpan.FromHours(3), "Longer", null, null, null)),
        [typeof(DeactivateRoles)] = async app => (Alice, new DeactivateRoles([(await app.ActivateAsync(Alice, Exchange)).ActivationId!.Value])),
        [typeof(CancelActivationRequest)] = async app => (Alice, new CancelActivationRequest(await app.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator))),
        [typeof(DecideRequest)] = async app => (Bob, new DecideRequest(await app.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator), ApprovalVerdict.Approve, "CAB approved")),
        [typeof(BeginStepUp)] = async app => (Alice, new BeginStepUp(
            new ActivateRoles([new ActivationItem(await app.EligibilityOf(Alice, Exchange), TimeSpan.FromHours(1))], "Mailbox move", null, null, null),
            StepUpChallenge.HashNonce("browser-secret"))),
        [typeof(ResumeStepUp)] = async app => (Alice, new ResumeStepUp(await app.SendAs(Alice, new BeginStepUp(
            new ActivateRoles([new ActivationItem(await app.EligibilityOf(Alice, Exchange), TimeSpan.FromHours(1))], "Mailbox move", null, null, null),
            StepUpChallenge.HashNonce("browser-secret"))))),
        [typeof(MarkNotificationsRead)] = async app =>
        {
            await app.RequestAsync(Alice, DemoOrganisation.GlobalAdministrator);
            return (Bob, new MarkNotificationsRead());
        },
        [typeof(ConvertDriftToEligibility)] = async app =>
        {
            await app.StandingAsync(Dave, Exchange);
            await app.Services.GetRequiredService<DriftScanner>().ScanAsync(CancellationToken.None);
            return (Erin, new ConvertDriftToEligibility(await app.Db(db => db.DriftFindings.Select(f => f.Id).SingleAsync()), "Standing becomes eligible"));
        },
        [typeof(ConvertStandingAssignments)] = async app =>
        {
            await app.StandingAsync(Dave, Exchange);
            return (Erin, new ConvertStandingAssignments([new StandingRef(Dave.Id, Exchange.Id, "/")], null, "Rollout wave 1"));
        },
        [typeof(UpdateRoleSettings)] = async app =>
        {
            var opened = await app.SettingsAsync(Exchange);
            return (Erin, new UpdateRoleSettings(Exchange.Id, opened.Version, opened.Settings with { RequireMfa = true }));
        },
        [typeof(AssignEligibility)] = _ => Task.FromResult<(DemoAccount, object)>((Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, null, "Messaging team"))),
        [typeof(RemoveEligibility)] = async app => (Erin, new RemoveEligibility(await app.EligibilityOf(Alice, Exchange), "Left the team")),
        [typeof(ExtendEligibility)] = async app =>
            (Erin, new ExtendEligibility(await app.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project")), TestApp.Start.AddDays(40), "Longer")),
        [typeof(RenewEligibility)] = async app =>
        {
            var id = await app.SendAs(Erin, new AssignEligibility(Dave.Id, Exchange.Id, null, TestApp.Start.AddDays(10), "Project"));
            app.Time.Advance(TimeSpan.FromDays(11));
            return (Erin, new RenewEligibility(id, TestApp.Start.AddDays(60), "Phase two"));
        },
        [typeof(AssignActive)] = _ => Task.FromResult<(DemoAccount, object)>((Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(2), "Weekend migration"))),
        [typeof(RemoveActiveAssignment)] = async app =>
            (Erin, new RemoveActiveAssignment(await app.SendAs(Erin, new AssignActive(Dave.Id, Exchange.Id, TestApp.Start.AddDays(2), "Weekend migration")), "Done early")),
        [typeof(Core.Features.Accounts.ResetCredentials)] = _ => Task.FromResult<(DemoAccount, object)>(
            (Erin, new Core.Features.Accounts.ResetCredentials(DemoOrganisation.Alice.Id, Password: true, Authenticator: true, "Lost phone, ticket HD-1"))),
        [typeof(SetBreakGlass)] = _ => Task.FromResult<(DemoAccount, object)>((Erin, new SetBreakGlass(Dave.Id, true, "Second emergency account"))),
        [typeof(AcknowledgeAlert)] = async app =>
        {
            await app.Services.GetRequiredService<BreakGlassAlarm>().RecordUseAsync(DemoOrganisation.BreakGlass.Id, "signed in", ClientInfo.Unknown, CancellationToken.None);
            return (Erin, new AcknowledgeAlert(await app.Db(db => db.Alerts.Select(a => a.Id).SingleAsync()), "Outage drill INC-9"));
        },
        [typeof(Core.Features.Audit.ExportAudit)] = _ => Task.FromResult<(DemoAccount, object)>(
            (DemoOrganisation.Dave, new Core.Features.Audit.ExportAudit(new Core.Features.Audit.AuditFilter(), Core.Features.Audit.AuditExportFormat.Csv, new MemoryStream()))),
        [typeof(Core.Features.Audit.VerifyAudit)] = _ => Task.FromResult<(DemoAccount, object)>((DemoOrganisation.Dave, new Core.Features.Audit.VerifyAudit())),
        [typeof(Core.Features.Audit.ExportAuditDigest)] = _ => Task.FromResult<(DemoAccount, object)>(
            (DemoOrganisation.Dave, new Core.Features.Audit.ExportAuditDigest(new MemoryStream()))),
        [typeof(EvaluateAlertsNow)] = _ => Task.FromResult<(DemoAccount, object)>((Erin, new EvaluateAlertsNow())),
        [typeof(CreateAccessReview)] = app => Task.FromResult<(DemoAccount, object)>((DemoOrganisation.Carol, new CreateAccessReview(app.Review(Exchange)))),
        [typeof(StopAccessReview)] = async app => (DemoOrganisation.Carol, new StopAccessReview(await app.StartReviewAsync(app.Review(Exchange)), "Replaced")),
        [typeof(EndReviewInstance)] = async app =>
            (DemoOrganisation.Carol, new EndReviewInstance((await app.LatestInstanceAsync(await app.StartReviewAsync(app.Review(Exchange)))).Id, "Deadline moved")),
        [typeof(DecideReviewItems)] = async app =>
        {
            var instance = await app.LatestInstanceAsync(await app.StartReviewAsync(app.Review(Exchange)));
            return (Bob, new DecideReviewItems(instance.Id, [new ReviewChoice((await app.LineAsync(instance.Id, Alice, Exchange)).Id, ReviewDecision.Deny)], "Left the team"));
        },
        [typeof(ApplyReviewResults)] = async app =>
        {
            var id = await app.StartReviewAsync(app.Review(Exchange) with { AutoApply = false, DefaultDecision = ReviewDefaultDecision.Remove });
            app.Time.Advance(TimeSpan.FromDays(15));
            await app.Reviews().RunAsync(CancellationToken.None);
            return (DemoOrganisation.Carol, new ApplyReviewResults((await app.LatestInstanceAsync(id)).Id));
        },
        [typeof(ExportReviewReport)] = async app =>
            (DemoOrganisation.Carol, new ExportReviewReport((await app.LatestInstanceAsync(await app.StartReviewAsync(app.Review(Exchange)))).Id, new MemoryStream())),
    };
}
