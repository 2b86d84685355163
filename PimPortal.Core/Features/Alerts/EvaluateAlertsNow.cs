using Mediator;
using PimPortal.Core.Common.Behaviours;
using PimPortal.Core.Lifecycle.Alerts;

namespace PimPortal.Core.Features.Alerts;

/// <summary>Evaluates the alerts now instead of at the next interval (PIM administrators).</summary>
[RequirePermission(PortalPermissions.PimAdministrator)]
public sealed record EvaluateAlertsNow : ICommand<int>;

public sealed class EvaluateAlertsNowHandler(AlertEvaluator evaluator) : ICommandHandler<EvaluateAlertsNow, int>
{
    public async ValueTask<int> Handle(EvaluateAlertsNow command, CancellationToken cancellationToken) => await evaluator.EvaluateAsync(cancellationToken);
}
