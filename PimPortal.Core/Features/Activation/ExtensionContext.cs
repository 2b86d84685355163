using Microsoft.EntityFrameworkCore;
using PimPortal.Core.Domain;
using PimPortal.Core.Persistence;
using PimPortal.Core.Policy;

namespace PimPortal.Core.Features.Activation;

/// <summary>Reads an activation of the actor and the policy context of its eligibility, for an extension.</summary>
internal static class ExtensionContext
{
    public static async Task<(RoleActivation Activation, PolicyContext Context)> LoadAsync(PimDbContext db, Guid me, Guid activationId, bool track, CancellationToken cancellationToken)
    {
        var query = track ? db.Activations : db.Activations.AsNoTracking();
        var activation = await query.SingleOrDefaultAsync(a => a.Id == activationId && a.PrincipalId == me, cancellationToken)
            ?? throw new NotFoundException("That activation is not one of yours.");
        if (activation.EligibilityId is not { } eligibilityId)
        {
            throw new RefusedException("This role was assigned to you active by a PIM administrator; ask them to extend the assignment.");
        }

        var ctx = (await PolicyContext.LoadAsync(db, me, [eligibilityId], cancellationToken))[0];
        return (activation, ctx);
    }

    public static ActivationPolicyInput Input(
        RoleActivation activation, PolicyContext ctx, DateTimeOffset now, TimeSpan duration, string? justification, string? ticketNumber,
        string? ticketSystem, DateTimeOffset? mfaVerifiedAt, PimOptions settings, bool codeEntered = false) =>
        ctx.Input(now, duration, justification, ticketNumber, ticketSystem, mfaVerifiedAt, settings, codeEntered) with
        {
            Kind = ActivationRequestKind.Extend,
            CurrentNotAfter = activation.NotAfter,
            HasOpenActivation = activation.IsOpen,
            HasPendingRequest = ctx.HasPendingExtension,
        };
}
