namespace PimPortal.Core;

/// <summary>The correlation id of the command or job run in progress (flows with the async context).</summary>
public static class Correlation
{
    private static readonly AsyncLocal<string?> Value = new();

    public static string? Current => Value.Value;

    /// <summary>Starts a correlation scope unless one is already open; dispose to close it.</summary>
    public static IDisposable Begin()
    {
        if (Value.Value is not null)
        {
            return NoScope.Instance;
        }

        Value.Value = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? Guid.NewGuid().ToString("N");
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        public void Dispose() => Value.Value = null;
    }

    private sealed class NoScope : IDisposable
    {
        public static readonly NoScope Instance = new();

        public void Dispose()
        {
        }
    }
}
