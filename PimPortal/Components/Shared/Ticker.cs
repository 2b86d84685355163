namespace PimPortal.Components.Shared;

/// <summary>
/// One timer per circuit that ticks every second while something listens (countdowns), on the injected
/// <see cref="TimeProvider"/> so tests can move time.
/// </summary>
public sealed class Ticker(TimeProvider time) : IDisposable
{
    private readonly Lock _gate = new();
    private ITimer? _timer;
    private Action? _tick;

    public event Action Tick
    {
        add
        {
            lock (_gate)
            {
                _tick += value;
                _timer ??= time.CreateTimer(_ => _tick?.Invoke(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
        }

        remove
        {
            lock (_gate)
            {
                _tick -= value;
                if (_tick is null)
                {
                    _timer?.Dispose();
                    _timer = null;
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            _tick = null;
        }
    }
}
