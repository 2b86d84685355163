using System.Linq.Expressions;
using FluentValidation;
using PimPortal.Core.Domain;

namespace PimPortal.Core.Features.Activation;

/// <summary>One role to activate and for how long.</summary>
public sealed record ActivationItem(Guid EligibilityId, TimeSpan Duration);

/// <summary>The shape checks shared by activation, its dry run and extension; the policy does the rest.</summary>
public abstract class ActivationInputValidator<T> : AbstractValidator<T>
{
    /// <summary>Most roles activated in one go.</summary>
    public const int MaxItems = 25;

    protected void AddItemRules(Expression<Func<T, IEnumerable<ActivationItem>>> items)
    {
        RuleFor(items).NotEmpty().WithMessage("Select at least one role.")
            .Must(list => list is null || list.Count() <= MaxItems).WithMessage($"Activate at most {MaxItems} roles at once.")
            .Must(list => list is null || list.Select(i => i.EligibilityId).Distinct().Count() == list.Count()).WithMessage("Each role can be selected once.");
        RuleForEach(items).ChildRules(item =>
        {
            item.RuleFor(i => i.EligibilityId).NotEmpty().WithMessage("A selected role has no id.");
            AddDurationRule(item.RuleFor(i => i.Duration));
        });
    }

    protected static void AddDurationRule<TOwner>(IRuleBuilderInitial<TOwner, TimeSpan> rule) =>
        rule.Must(d => d > TimeSpan.Zero).WithMessage("The duration must be greater than zero.")
            .Must(d => d <= RoleSettings.AbsoluteMaxDuration).WithMessage($"No activation can last longer than {RoleSettings.AbsoluteMaxDuration.TotalHours:0} hours.");

    protected void AddDetailRules(Expression<Func<T, string?>> justification, Expression<Func<T, string?>> ticketNumber, Expression<Func<T, string?>> ticketSystem)
    {
        RuleFor(justification).MaximumLength(ActivationRequest.MaxJustificationLength)
            .WithMessage($"The justification can be at most {ActivationRequest.MaxJustificationLength} characters.");
        RuleFor(ticketNumber).MaximumLength(ActivationRequest.MaxTicketLength).WithMessage($"The ticket number can be at most {ActivationRequest.MaxTicketLength} characters.");
        RuleFor(ticketSystem).MaximumLength(ActivationRequest.MaxTicketLength).WithMessage($"The ticket system can be at most {ActivationRequest.MaxTicketLength} characters.");
    }

    protected void AddCodeRule(Expression<Func<T, string?>> code) =>
        RuleFor(code).Must(c => string.IsNullOrWhiteSpace(c) || Security.Totp.IsWellFormed(c) || Security.StepUpProof.TryParse(c, out _))
            .WithMessage("The authenticator code is 6 digits.");
}
