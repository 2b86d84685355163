namespace PimPortal.Core.Jobs;

/// <summary>Wakes a waiting worker early: a command that made work for it sets the signal after commit.</summary>
public sealed class WorkSignal
{
    private TaskCompletionSource _next = NewSource();

    /// <summary>Wakes the worker now (or makes its next wait return at once, if it is busy).</summary>
    public void Set() => Volatile.Read(ref _next).TrySetResult();

    /// <summary>Waits until <see cref="Set"/> is called or <paramref name="timeout"/> passes on <paramref name="time"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _next);
        if (!current.Task.IsCompleted && timeout > TimeSpan.Zero)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(current.Task, Task.Delay(timeout, time, cts.Token));
            await cts.CancelAsync();
            cancellationToken.ThrowIfCancellationRequested();
        }

        // Consume the signal before the worker looks for work, so a Set after this point is not lost.
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _next, NewSource(), current);
        }
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The signals of the background workers, shared by the commands that make work for them.</summary>
public sealed class JobSignals
{
    public WorkSignal Outbox { get; } = new();

    public WorkSignal Expiry { get; } = new();

    public WorkSignal Mail { get; } = new();

    public WorkSignal Reviews { get; } = new();
}

/// <summary>
/// In-process news for open pages: a principal's roles or requests changed, the approvers' queue changed, or a
/// principal has new notifications — so re-read.
/// </summary>
public sealed class PortalEvents
{
    public event Action<PortalEvent>? Raised;

    public void Publish(PortalEvent portalEvent)
    {
        var handlers = Raised;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<PortalEvent>>())
        {
            try
            {
                handler(portalEvent);
            }
#pragma warning disable CA1031 // A broken subscriber (a closed circuit) must not stop the others or the publisher.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    public void RolesChanged(IEnumerable<Guid> principalIds)
    {
        foreach (var id in principalIds.Distinct())
        {
            Publish(new PortalEvent(id));
        }
    }

    /// <summary>A request was made, decided, cancelled or expired: every open approvers' queue re-reads.</summary>
    public void ApprovalsChanged() => Publish(new PortalEvent(Guid.Empty, PortalEventKind.ApprovalsChanged));

    /// <summary>An alert was raised, seen again or resolved: open alert lists and dashboards re-read.</summary>
    public void AlertsChanged() => Publish(new PortalEvent(Guid.Empty, PortalEventKind.AlertsChanged));

    public void NotificationsChanged(IEnumerable<Guid> principalIds)
    {
        foreach (var id in principalIds.Distinct())
        {
            Publish(new PortalEvent(id, PortalEventKind.NotificationsChanged));
        }
    }
}

/// <summary>Something of <paramref name="PrincipalId"/> changed (<see cref="Guid.Empty"/> for everyone's news).</summary>
public sealed record PortalEvent(Guid PrincipalId, PortalEventKind Kind = PortalEventKind.RolesChanged);

/// <summary>What a <see cref="PortalEvent"/> is about.</summary>
public enum PortalEventKind
{
    /// <summary>The principal's eligibilities, activations or requests.</summary>
    RolesChanged,

    /// <summary>Pending requests: one was made, decided, cancelled or expired.</summary>
    ApprovalsChanged,

    /// <summary>The principal has new notifications.</summary>
    NotificationsChanged,

    /// <summary>Alerts for PIM administrators changed.</summary>
    AlertsChanged,
}
