using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Seed;

namespace PimPortal.Benchmarks;

/// <summary>The real portal on Kestrel (a random port) over a fresh SQLite file with the demo seeded; jobs off.</summary>
internal sealed partial class BenchWebServer : WebApplicationFactory<Program>
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"pim-bench-web-{Guid.NewGuid():N}.db");

    public BenchWebServer()
    {
        UseKestrel(0);
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
    }

    public string BaseUrl { get; }

    /// <summary>An HTTP client signed in as <paramref name="email"/> through the real sign-in form.</summary>
    public async Task<HttpClient> SignedInClientAsync(string email)
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        var client = new HttpClient(handler, disposeHandler: true) { BaseAddress = new Uri(BaseUrl) };
        var form = await client.GetStringAsync("/signin");
        var token = WebUtility.HtmlDecode(Token().Match(form).Groups[1].Value);
        using var signIn = await client.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = token,
            ["Input.Email"] = email,
            ["Input.Password"] = DemoOrganisation.Password,
        }));
        if (signIn.StatusCode != HttpStatusCode.Redirect)
        {
            client.Dispose();
            throw new InvalidOperationException($"Sign-in failed: {signIn.StatusCode}");
        }

        return client;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex Token();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Pim", $"Data Source={file}");
        builder.UseSetting("Pim:Jobs:Enabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseEnvironment("Production");

        // Commands sent by the benchmark itself (not through a page) act as the user it names.
        builder.ConfigureServices(services =>
        {
            services.AddScoped<User>();
            services.AddScoped<Core.ICurrentUser>(sp => sp.GetRequiredService<User>().IsSet
                ? sp.GetRequiredService<User>()
                : ActivatorUtilities.CreateInstance<PimPortal.Auth.BlazorCurrentUser>(sp));
        });
    }

    /// <summary>The user of a scope the benchmark sends commands in.</summary>
    internal sealed class User : Core.ICurrentUser
    {
        private readonly BenchUser inner = new();

        public bool IsSet { get; private set; }

        public Core.ClientInfo Client => inner.Client;

        public Task<System.Security.Claims.ClaimsPrincipal> GetUserAsync() => inner.GetUserAsync();

        public void SignIn(Guid principalId)
        {
            inner.SignIn(principalId);
            IsSet = true;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(file + suffix);
        }
    }
}
