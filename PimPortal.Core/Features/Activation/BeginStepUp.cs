using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>
/// Entra mode: an activation that needs MFA is kept, as filled in, while the user steps up through Conditional Access
/// (<c>/stepup/{id}</c>); <see cref="ResumeActivation"/> then submits exactly that activation with the step-up as its
/// proof.
/// </summary>
/// <param name="BrowserNonceHash">SHA-256 (hex) of the secret the starting browser keeps (<see cref="StepUpChallenge.HashNonce"/>).</param>
/// <param name="Extension">Instead of an activation: the extension waiting for the step-up.</param>
public sealed record BeginStepUp(ActivateRoles? Activation, string BrowserNonceHash, ExtendActivation? Extension = null) : ICommand<Guid>;

/// <summary>What a step-up waits to submit.</summary>
internal sealed record StepUpDraft(ActivateRoles? Activate, ExtendActivation? Extend);

public sealed class BeginStepUpValidator : ActivationInputValidator<BeginStepUp>
{
    public BeginStepUpValidator()
    {
        RuleFor(x => x).Must(x => (x.Activation is null) != (x.Extension is null)).WithMessage("Choose what to activate or extend.");
        RuleFor(x => x.Activation!.AuthenticatorCode).Empty().WithMessage("A step-up carries no code.").When(x => x.Activation is not null);
        RuleFor(x => x.Extension!.AuthenticatorCode).Empty().WithMessage("A step-up carries no code.").When(x => x.Extension is not null);
        RuleFor(x => x.BrowserNonceHash).Matches("^[0-9a-f]{64}$").WithMessage("The browser's step-up secret is missing.");
    }
}

public sealed class BeginStepUpHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time) : ICommandHandler<BeginStepUp, Guid>
{
    public async ValueTask<Guid> Handle(BeginStepUp command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var challenge = new StepUpChallenge(Guid.NewGuid(), context.Actor.PrincipalId, StepUpDrafts.Write(new StepUpDraft(command.Activation, command.Extension)), now, command.BrowserNonceHash);
        db.StepUpChallenges.Add(challenge);
        db.AuditEvents.Add(context.Audit(now, AuditActions.StepUpStarted, "step-up", challenge.Id.ToString(), AuditOutcome.Success,
            new { method = "conditional-access", roles = command.Activation?.Items.Count ?? 1, extension = command.Extension?.ActivationId }, context.Actor.PrincipalId));
        await db.SaveChangesAsync(cancellationToken);
        return challenge.Id;
    }
}
