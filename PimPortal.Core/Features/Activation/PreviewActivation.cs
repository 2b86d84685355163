using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;
using PimPortal.Core.Security;

namespace PimPortal.Core.Features.Activation;

/// <summary>
/// The dry run of <see cref="ActivateRoles"/>: the same policy on the same data, answering what the activation will
/// require and what, as typed so far, it would refuse. Nothing is written.
/// </summary>
/// <param name="CodeEntered">A code is typed in the dialog; it will be verified on submit.</param>
public sealed record PreviewActivation(
    IReadOnlyList<ActivationItem> Items,
    string? Justification,
    string? TicketNumber,
    string? TicketSystem,
    bool CodeEntered,
    DateTimeOffset? StartAt = null) : IQuery<ActivationPreview>;

/// <summary>What the policy says of each selected role, and what the dialog must ask for.</summary>
/// <param name="MaxDuration">The longest duration every selected role accepts now (cut at eligibility ends).</param>
public sealed record ActivationPreview(
    IReadOnlyList<ItemPreview> Items,
    bool NeedsMfaCode,
    bool NeedsJustification,
    bool NeedsTicket,
    TimeSpan MaxDuration)
{
    public bool CanSubmit => Items.Count > 0 && Items.All(i => i.Decision.Verdict != PolicyVerdict.Deny);
}

/// <summary>The policy's dry-run decision for one selected role.</summary>
public sealed record ItemPreview(Guid EligibilityId, string RoleName, PolicyDecision Decision);

public sealed class PreviewActivationValidator : ActivationInputValidator<PreviewActivation>
{
    public PreviewActivationValidator()
    {
        AddItemRules(x => x.Items);
        AddDetailRules(x => x.Justification, x => x.TicketNumber, x => x.TicketSystem);
    }
}

public sealed class PreviewActivationHandler(IDbContextFactory<PimDbContext> dbFactory, RequestContext context, IMfaStepUp stepUp, TimeProvider time, IOptions<PimOptions> options)
    : IQueryHandler<PreviewActivation, ActivationPreview>
{
    public async ValueTask<ActivationPreview> Handle(PreviewActivation query, CancellationToken cancellationToken)
    {
        var me = context.Actor.PrincipalId;
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var contexts = await PolicyContext.LoadAsync(db, me, [.. query.Items.Select(i => i.EligibilityId)], cancellationToken);
        var lastMfa = await PolicyContext.LastMfaAsync(contexts, stepUp, db, context.Actor, cancellationToken);

        var items = query.Items.Zip(contexts, (item, ctx) => new ItemPreview(
            item.EligibilityId,
            ctx.RoleName,
            ActivationPolicy.Evaluate(ctx.Input(now, item.Duration, query.Justification, query.TicketNumber, query.TicketSystem, lastMfa, options.Value, query.CodeEntered) with { Start = query.StartAt })))
            .ToList();
        var settings = contexts.Where(c => c.Role is not null).Select(c => c.Role!.Settings).ToList();
        return new ActivationPreview(
            items,
            NeedsMfaCode: items.Exists(i => i.Decision.NeedsMfaProof),
            NeedsJustification: settings.Exists(s => s.RequireJustification),
            NeedsTicket: settings.Exists(s => s.RequireTicket),
            MaxDuration: contexts.Count == 0 ? TimeSpan.Zero : contexts.Min(c => c.LongestAllowed(query.StartAt is { } start && start > now ? start : now)));
    }
}
