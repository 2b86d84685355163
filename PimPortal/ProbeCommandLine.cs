namespace PimPortal;

/// <summary>
/// <c>PimPortal probe [URL]</c>: asks the portal's health endpoint (by default <c>http://localhost:8080/healthz</c>)
/// and exits 0 when it answers 200, 1 otherwise — the container image's health check, which needs no curl in an image
/// that has none.
/// </summary>
internal static class ProbeCommandLine
{
    public static readonly Uri DefaultUrl = new("http://localhost:8080/healthz");

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        if (args.Length > 1 || (args.Length == 1 && !Uri.TryCreate(args[0], UriKind.Absolute, out _)))
        {
            await output.WriteLineAsync("Usage: probe [URL]   (default " + DefaultUrl + "; exit 0 when it answers 200)");
            return 2;
        }

        var url = args.Length == 1 ? new Uri(args[0]) : DefaultUrl;
        // No redirects: a page that sends an anonymous caller to /signin must not count as healthy.
        using var handler = new HttpClientHandler { AllowAutoRedirect = false };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await client.GetAsync(url);
            await output.WriteLineAsync($"{url}: {(int)response.StatusCode} {response.ReasonPhrase}");
            return response.StatusCode == System.Net.HttpStatusCode.OK ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"{url}: no answer ({e.Message})");
            return 1;
        }
    }
}
