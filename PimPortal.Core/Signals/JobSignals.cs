namespace PimPortal.Core.Signals;

/// <summary>The signals of the background workers, shared by the commands that make work for them.</summary>
public sealed class JobSignals
{
    public WorkSignal Outbox { get; } = new();

    public WorkSignal Expiry { get; } = new();

    public WorkSignal Mail { get; } = new();

    public WorkSignal Reviews { get; } = new();
}
