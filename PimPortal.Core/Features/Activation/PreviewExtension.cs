using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>The dry run of <see cref="ExtendActivation"/>.</summary>
public sealed record PreviewExtension(Guid ActivationId, TimeSpan Duration, string? Justification, string? TicketNumber, string? TicketSystem, bool CodeEntered)
    : IQuery<ActivationPreview>;

public sealed class PreviewExtensionValidator : ActivationInputValidator<PreviewExtension>
{
    public PreviewExtensionValidator()
    {
        RuleFor(x => x.ActivationId).NotEmpty().WithMessage("Choose the activation to extend.");
        AddDurationRule(RuleFor(x => x.Duration));
        AddDetailRules(x => x.Justification, x => x.TicketNumber, x => x.TicketSystem);
    }
}

public sealed class PreviewExtensionHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, IMfaStepUp stepUp, TimeProvider time, IOptions<PimOptions> options)
    : IQueryHandler<PreviewExtension, ActivationPreview>
{
    public async ValueTask<ActivationPreview> Handle(PreviewExtension query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (activation, ctx) = await ExtensionContext.LoadAsync(db, me, query.ActivationId, track: false, cancellationToken);
        var lastMfa = await PolicyContext.LastMfaAsync([ctx], stepUp, db, context.Actor, cancellationToken);
        var decision = ActivationPolicy.Evaluate(ExtensionContext.Input(
            activation, ctx, now, query.Duration, query.Justification, query.TicketNumber, query.TicketSystem, lastMfa, options.Value, query.CodeEntered));
        var settings = ctx.Role?.Settings;
        return new ActivationPreview(
            [new ItemPreview(ctx.EligibilityId, ctx.RoleName, decision)],
            NeedsMfaCode: decision.NeedsMfaProof,
            NeedsJustification: settings?.RequireJustification ?? false,
            NeedsTicket: settings?.RequireTicket ?? false,
            MaxDuration: ctx.LongestAllowed(now));
    }
}
