using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PimPortal.E2E.Infrastructure;

/// <summary>
/// The real portal as a separate OS process — <c>dotnet PimPortal.dll</c>, as an operator runs it — on a port of its
/// own, for the tests about several instances and crashes: started, waited for until ready, killed (SIGKILL) or
/// stopped (SIGTERM).
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private PortalProcess(Process process, int port)
    {
        this.process = process;
        Port = port;
        BaseUrl = $"http://127.0.0.1:{port}";
    }

    public int Port { get; }

    public string BaseUrl { get; }

    /// <summary>When the process was started (for "within N seconds of the start").</summary>
    public DateTimeOffset StartedAt { get; private set; }

    public bool HasExited => process.HasExited;

    /// <summary>Everything the process printed so far (for a failing test's message).</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the portal with these settings (<c>--Key=value</c>) on a free port and waits until <c>/healthz/ready</c> answers 200.</summary>
    public static async Task<PortalProcess> StartAsync(IReadOnlyDictionary<string, string> settings, bool waitUntilReady = true)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        start.ArgumentList.Add($"--urls=http://127.0.0.1:{port}");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var portal = new PortalProcess(new Process { StartInfo = start }, port) { StartedAt = DateTimeOffset.UtcNow };
        portal.process.OutputDataReceived += (_, e) => portal.Append(e.Data);
        portal.process.ErrorDataReceived += (_, e) => portal.Append(e.Data);
        portal.process.Start();
        portal.process.BeginOutputReadLine();
        portal.process.BeginErrorReadLine();
        if (waitUntilReady)
        {
            await portal.WaitUntilReadyAsync();
        }

        return portal;
    }

    public async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with {process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                if ((await client.GetAsync("/healthz/ready")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (watch.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new InvalidOperationException($"The portal was not ready within 90 s:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the process ends at once, mid-whatever, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as an orchestrator stops a container; returns the exit code once it has exited.</summary>
    public async Task<int> TerminateAsync(TimeSpan limit)
    {
        if (kill(process.Id, 15) != 0)
        {
            throw new InvalidOperationException("SIGTERM could not be sent.");
        }

        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            await KillAsync();
        }

        process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // libc's kill(2): .NET has no SIGTERM for another process.
    private static extern int kill(int pid, int signal);
#pragma warning restore CA5392, SYSLIB1054
}
