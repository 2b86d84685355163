using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Features.Settings;
using PimPortal.Core.Persistence;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>
/// Entra mode: an activation that needs MFA is kept, as filled in, while the user steps up through Conditional Access
/// (<c>/stepup/{id}</c>); <see cref="ResumeStepUp"/> then submits exactly that activation with the step-up as its
/// proof. Whoever may submit the kept command is checked when it is submitted, through the whole pipeline.
/// </summary>
/// <param name="BrowserNonceHash">SHA-256 (hex) of the secret the starting browser keeps (<see cref="StepUpChallenge.HashNonce"/>).</param>
/// <param name="Extension">Instead of an activation: the extension waiting for the step-up.</param>
/// <param name="Settings">Instead of an activation: a protected role's settings waiting for the step-up.</param>
public sealed record BeginStepUp(ActivateRoles? Activation, string BrowserNonceHash, ExtendActivation? Extension = null, UpdateRoleSettings? Settings = null) : ICommand<Guid>;

/// <summary>What a step-up waits to submit.</summary>
internal sealed record StepUpDraft(ActivateRoles? Activate, ExtendActivation? Extend, UpdateRoleSettings? Settings = null);

public sealed class BeginStepUpValidator : ActivationInputValidator<BeginStepUp>
{
    public BeginStepUpValidator()
    {
        RuleFor(x => x).Must(x => new object?[] { x.Activation, x.Extension, x.Settings }.Count(c => c is not null) == 1).WithMessage("Choose what to activate, extend or change.");
        RuleFor(x => x.Activation!.AuthenticatorCode).Empty().WithMessage("A step-up carries no code.").When(x => x.Activation is not null);
        RuleFor(x => x.Extension!.AuthenticatorCode).Empty().WithMessage("A step-up carries no code.").When(x => x.Extension is not null);
        RuleFor(x => x.Settings!.AuthenticatorCode).Empty().WithMessage("A step-up carries no code.").When(x => x.Settings is not null);
        RuleFor(x => x.BrowserNonceHash).Matches("^[0-9a-f]{64}$").WithMessage("The browser's step-up secret is missing.");
    }
}

public sealed class BeginStepUpHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, TimeProvider time) : ICommandHandler<BeginStepUp, Guid>
{
    public async ValueTask<Guid> Handle(BeginStepUp command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var challenge = new StepUpChallenge(Guid.NewGuid(), context.Actor.PrincipalId, StepUpDrafts.Write(new StepUpDraft(command.Activation, command.Extension, command.Settings)), now, command.BrowserNonceHash);
        db.StepUpChallenges.Add(challenge);
        db.AuditEvents.Add(context.Audit(now, AuditActions.StepUpStarted, "step-up", challenge.Id.ToString(), AuditOutcome.Success,
            new { method = "conditional-access", roles = command.Activation?.Items.Count ?? (command.Extension is null ? 0 : 1), extension = command.Extension?.ActivationId, settingsOf = command.Settings?.RoleId }, context.Actor.PrincipalId));
        await db.SaveChangesAsync(cancellationToken);
        return challenge.Id;
    }
}
