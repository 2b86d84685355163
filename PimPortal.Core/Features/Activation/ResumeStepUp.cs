using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>
/// Submits what a verified step-up was for — an activation, an extension or a protected role's settings — with that
/// step-up as its MFA proof (once).
/// </summary>
public sealed record ResumeStepUp(Guid ChallengeId) : ICommand<StepUpOutcome>;

/// <summary>What the resumed submission did: an activation's result, an extension's, or the settings' new version.</summary>
public sealed record StepUpOutcome(ActivationResult? Activation, ExtensionResult? Extension, Guid? SettingsVersion = null);

public sealed class ResumeStepUpHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, ISender sender) : ICommandHandler<ResumeStepUp, StepUpOutcome>
{
    public async ValueTask<StepUpOutcome> Handle(ResumeStepUp command, CancellationToken cancellationToken)
    {
        string draft;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            draft = await db.StepUpChallenges.AsNoTracking()
                .Where(c => c.Id == command.ChallengeId && c.PrincipalId == context.Actor.PrincipalId)
                .Select(c => c.Draft)
                .SingleOrDefaultAsync(cancellationToken)
                ?? throw new NotFoundException("That verification is not yours, or does not exist.");
        }

        // Exactly what the user filled in before stepping up, through the whole pipeline again.
        var kept = StepUpDrafts.Read<StepUpDraft>(draft);
        var proof = StepUpProof.For(command.ChallengeId);
        return kept switch
        {
            { Activate: { } activation } => new StepUpOutcome(await sender.Send(activation with { AuthenticatorCode = proof }, cancellationToken), null),
            { Extend: { } extension } => new StepUpOutcome(null, await sender.Send(extension with { AuthenticatorCode = proof }, cancellationToken)),
            { Settings: { } settings } => new StepUpOutcome(null, null, await sender.Send(settings with { AuthenticatorCode = proof }, cancellationToken)),
            _ => throw new DomainRuleException("The step-up has nothing to submit."),
        };
    }
}
