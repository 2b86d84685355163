using System.Diagnostics;

namespace PimPortal.Tests.Infrastructure;

/// <summary>Waits on a condition (not on a clock): checks it until it holds, failing with a clear message after a generous limit.</summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null)
    {
        var watch = Stopwatch.StartNew();
        var max = limit ?? TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            if (watch.Elapsed > max)
            {
                Assert.Fail($"Waited {max.TotalSeconds:0} s for {what}; it did not happen.");
            }

            await Task.Yield();
            await Task.Delay(10);
        }
    }
}
