using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PimPortal.Benchmarks;

/// <summary>
/// Process start to the first page served (the sign-in page), running the built portal as `dotnet PimPortal.dll`:
/// on a fresh database (migrations and the demo seed included) and on an existing one.
/// </summary>
internal static class ColdStartBenchmark
{
    public static async Task RunAsync(int runs)
    {
        var dll = FindPortal();
        var file = Path.Combine(Path.GetTempPath(), $"pim-cold-{Guid.NewGuid():N}.db");
        var fresh = new List<double>();
        var existing = new List<double>();
        try
        {
            for (var i = 0; i < runs; i++)
            {
                DeleteDatabase(file);
                fresh.Add(await StartOnceAsync(dll, file));
                existing.Add(await StartOnceAsync(dll, file));
            }
        }
        finally
        {
            DeleteDatabase(file);
        }

        Console.WriteLine();
        Console.WriteLine($"## Cold start to first page ({Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(dll)))} build, `dotnet PimPortal.dll`, GET /signin)");
        Console.WriteLine($"- fresh database (migrate + seed the demo): {string.Join(", ", fresh.Select(t => $"{t:0} ms"))} (median {fresh.Order().ElementAt(fresh.Count / 2):0} ms)");
        Console.WriteLine($"- existing database: {string.Join(", ", existing.Select(t => $"{t:0} ms"))} (median {existing.Order().ElementAt(existing.Count / 2):0} ms)");
    }

    private static async Task<double> StartOnceAsync(string dll, string file)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["ConnectionStrings__Pim"] = $"Data Source={file}";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                try
                {
                    var response = await client.GetAsync($"http://127.0.0.1:{port}/signin");
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        return watch.Elapsed.TotalMilliseconds;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                await Task.Delay(20);
            }

            throw new TimeoutException("The portal did not serve /signin within 60 s.");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static string FindPortal()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !File.Exists(Path.Combine(root, "PimPortal.sln")))
        {
            root = Path.GetDirectoryName(root);
        }

        var candidates = new[] { "Release", "Debug" }
            .Select(c => Path.Combine(root ?? ".", "PimPortal", "bin", c, "net10.0", "PimPortal.dll"))
            .Where(File.Exists)
            .ToList();
        return candidates.FirstOrDefault() ?? throw new FileNotFoundException("Build the portal first: dotnet build -c Release");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void DeleteDatabase(string file)
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(file + suffix);
        }
    }
}
