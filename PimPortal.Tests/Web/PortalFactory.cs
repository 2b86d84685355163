using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace PimPortal.Tests.Web;

/// <summary>The whole web host on a fresh SQLite file (migrated and seeded on start, as `dotnet run` does), workers off.</summary>
public sealed partial class PortalFactory : WebApplicationFactory<Program>
{
    private readonly string file;
    private readonly bool ownsFile;
    private readonly (string Key, string Value)[] settings;

    public PortalFactory()
        : this(null, [])
    {
    }

    private PortalFactory(string? sharedFile, (string Key, string Value)[] settings)
    {
        ownsFile = sharedFile is null;
        file = sharedFile ?? NewFile();
        this.settings = settings;
    }

    /// <summary>A host on <paramref name="sharedFile"/> — another instance's database, left to its owner — with <paramref name="settings"/> on top.</summary>
    public static PortalFactory On(string sharedFile, params (string Key, string Value)[] settings) => new(sharedFile, settings);

    public static string NewFile() => Path.Combine(Path.GetTempPath(), $"pim-web-{Guid.NewGuid():N}.db");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("ConnectionStrings:Pim", $"Data Source={file}");
        builder.UseSetting("Pim:Jobs:Enabled", "false");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseEnvironment("Production");
    }

    public HttpClient Browser() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Posts the sign-in form as a browser would (antiforgery token and all).</summary>
    public static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email, string password, string? returnUrl = null)
    {
        var path = returnUrl is null ? "/signin" : $"/signin?ReturnUrl={Uri.EscapeDataString(returnUrl)}";
        var form = await browser.GetStringAsync(path);
        return await browser.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = Token(form),
            ["Input.Email"] = email,
            ["Input.Password"] = password,
        }));
    }

    public static string Token(string html) =>
        WebUtility.HtmlDecode(TokenPattern().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException("No antiforgery token in the page."));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!ownsFile)
        {
            return;
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(file + suffix);
        }

        var keys = Core.Security.KeyRing.DirectoryBeside(file);
        if (System.IO.Directory.Exists(keys))
        {
            System.IO.Directory.Delete(keys, recursive: true);
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
