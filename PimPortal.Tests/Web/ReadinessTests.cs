using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PimPortal.Core;
using PimPortal.Core.Jobs;
using PimPortal.Core.Notifications;
using PimPortal.Core.Persistence;
using PimPortal.Core.Seed;
using PimPortal.Health;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Web;

/// <summary>
/// <c>/healthz</c> (liveness: answers, asks nothing) and <c>/healthz/ready</c> (the database migrated, the key ring
/// readable, the workers passing, the directory and the mail server where configured), each failure named without a
/// secret; and the key ring kept in the database, shared by every instance, encrypted with a certificate.
/// </summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Liveness_AndReadiness_AnswerWithoutASession_NamingEachCheck()
    {
        await using var portal = new PortalFactory();
        var browser = portal.Browser();

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/healthz")).StatusCode);
        var ready = await browser.GetAsync("/healthz/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var report = await Report(ready);
        Assert.Equal("Healthy", report.Status);
        Assert.Equal([("database", "Healthy", "Sqlite, migrated"), ("key-ring", "Healthy", "readable"), ("workers", "Healthy", "no workers in this instance")], report.Checks);
    }

    [Fact]
    public async Task AWorkerThatStopsPassing_MakesTheInstanceUnready_NamingIt()
    {
        await using var portal = new PortalFactory();
        var browser = portal.Browser();
        portal.Services.GetRequiredService<WorkerHeartbeats>().Started("StuckWorker", TimeSpan.FromMilliseconds(1));

        HttpResponseMessage? ready = null;
        await Eventually.HoldsAsync(async () => (ready = await browser.GetAsync("/healthz/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, "the readiness probe to fail");

        var workers = (await Report(ready!)).Checks.Single(c => c.Name == "workers");
        Assert.Equal("Unhealthy", workers.Status);
        Assert.StartsWith("StuckWorker has not finished a first pass for ", workers.Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public void Heartbeats_CountThreeIntervals_AndAPassResetsThem()
    {
        var time = new FakeTimeProvider();
        var heartbeats = new WorkerHeartbeats(time);
        heartbeats.Started("OutboxWorker", TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromSeconds(15));
        Assert.Empty(heartbeats.Stuck());

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(["OutboxWorker has not finished a first pass for 16 s (every 5 s)"], heartbeats.Stuck());

        heartbeats.Passed("OutboxWorker", TimeSpan.FromSeconds(5));
        Assert.Empty(heartbeats.Stuck());
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(["OutboxWorker has not passed for 20 s (every 5 s)"], heartbeats.Stuck());
        heartbeats.Stopped("OutboxWorker");
        Assert.Empty(heartbeats.Stuck());
    }

    [Fact]
    public async Task AnUnreachableDatabase_IsNamed_WithoutItsConnectionString()
    {
        var options = new PimOptions { Database = { Provider = DatabaseProvider.PostgreSql } };
        await using var services = new ServiceCollection().AddPimDatabase(DatabaseProvider.PostgreSql, "Host=127.0.0.1;Port=1;Username=pim;Password=hunter2-secret;Timeout=2").BuildServiceProvider();

        var result = await new DatabaseCheck(services.GetRequiredService<IDbContextFactory<PimDbContext>>(), Options.Create(options)).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("The PostgreSql database does not answer (", result.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", result.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("Port=1", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADatabaseNotMigrated_IsUnready_SayingWhatToDo()
    {
        await using var empty = await TestDatabase.CreateEmptyPostgresAsync();
        var options = new PimOptions { Database = { Provider = DatabaseProvider.PostgreSql } };
        await using var services = new ServiceCollection().AddPimDatabase(DatabaseProvider.PostgreSql, empty.ConnectionString).BuildServiceProvider();

        var result = await new DatabaseCheck(services.GetRequiredService<IDbContextFactory<PimDbContext>>(), Options.Create(options)).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("The PostgreSql database is not migrated: ", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDirectory_IsReadyWhileGraphAnswers_AndNamedWhenItDoesNot()
    {
        await using var graph = await GraphStub.GraphStub.StartAsync();
        await using var app = await TestApp.StartAsync(DatabaseKind.Sqlite);
        var check = new DirectoryCheck(graph.Gateway(app.Services));

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);
        graph.FailNext("GET", "/organization", 503);
        var failed = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal((HealthStatus.Unhealthy, "Microsoft Graph does not answer (HTTP 503): grants cannot be written or read back."), (failed.Status, failed.Description));
    }

    [Fact]
    public async Task TheMailServer_IsCheckedWhenConfigured_AndItsOutageOnlyDegrades()
    {
        await using var smtp = await SmtpTestServer.StartAsync();
        var time = new FakeTimeProvider();
        var options = new PimOptions { Smtp = { Host = "127.0.0.1", Port = smtp.Port, Security = SmtpSecurity.None } };
        var check = new SmtpCheck(new SmtpMailSender(Options.Create(options)), time);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        var down = new PimOptions { Smtp = { Host = "127.0.0.1", Port = SmtpTestServer.FreePort(), Security = SmtpSecurity.None } };
        var failing = new SmtpCheck(new SmtpMailSender(Options.Create(down)), time);
        var result = await failing.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.StartsWith("The mail server does not answer (", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACookieIssuedByOneInstance_IsReadByAnother_ThroughTheSharedKeyRing()
    {
        var file = PortalFactory.NewFile();
        await using var first = PortalFactory.On(file);
        var signIn = await PortalFactory.SignInAsync(first.Browser(), DemoOrganisation.Erin.Email, DemoOrganisation.Password, "/directory");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var cookie = SessionCookie(signIn);

        await using var second = PortalFactory.On(file);
        var browser = second.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/directory");
        request.Headers.Add("Cookie", cookie);
        var page = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("erin@contoso.test", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // SQLite without a certificate: the ring is kept beside the file, not in it.
        Assert.Single(System.IO.Directory.GetFiles(Core.Security.KeyRing.DirectoryBeside(file), "key-*.xml"));
        Assert.Equal(0, await first.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContext().DataProtectionKeys.CountAsync());
    }

    [Fact]
    public async Task TheEmbeddedDatabaseFileAlone_HoldsNoAuthenticatorSecret_NorTheKeyToOne()
    {
        var file = PortalFactory.NewFile();
        await using (var portal = PortalFactory.On(file))
        {
            Assert.Equal(HttpStatusCode.OK, (await portal.Browser().GetAsync("/healthz/ready")).StatusCode);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var bytes = new List<byte>();
        foreach (var part in new[] { file, file + "-wal" }.Where(File.Exists))
        {
            bytes.AddRange(await File.ReadAllBytesAsync(part));
        }

        var text = System.Text.Encoding.ASCII.GetString([.. bytes]);
        Assert.Contains("AuthenticatorKey", text, StringComparison.Ordinal);
        Assert.All(DemoOrganisation.Accounts, a => Assert.DoesNotContain(a.TotpSecret, text, StringComparison.Ordinal));
        Assert.DoesNotContain("masterKey", text, StringComparison.Ordinal);
        Assert.Contains("masterKey", await File.ReadAllTextAsync(System.IO.Directory.GetFiles(Core.Security.KeyRing.DirectoryBeside(file), "key-*.xml").Single()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithACertificate_TheKeysAreEncryptedAtRest_AndAnInstanceWithoutItIsUnready()
    {
        var (certificate, other) = (Certificate("CN=PimPortal key ring"), Certificate("CN=Someone else"));
        try
        {
            var file = PortalFactory.NewFile();
            await using (var first = PortalFactory.On(file, ("Pim:DataProtection:CertificatePath", certificate), ("Pim:DataProtection:CertificatePassword", "pfx-password")))
            {
                Assert.Equal(HttpStatusCode.OK, (await first.Browser().GetAsync("/healthz/ready")).StatusCode);
                var xml = await first.Services.GetRequiredService<IDbContextFactory<PimDbContext>>().CreateDbContext().DataProtectionKeys.Select(k => k.Xml).SingleAsync();
                Assert.Contains("encryptedSecret", xml, StringComparison.Ordinal);
                Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
            }

            await using var wrong = PortalFactory.On(file, ("Pim:DataProtection:CertificatePath", other), ("Pim:DataProtection:CertificatePassword", "pfx-password"));
            var ready = await wrong.Browser().GetAsync("/healthz/ready");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var keyRing = (await Report(ready)).Checks.Single(c => c.Name == "key-ring");
            Assert.StartsWith("1 of ", keyRing.Description, StringComparison.Ordinal);
            Assert.Contains("Data Protection keys cannot be decrypted with the configured certificate", keyRing.Description, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(certificate);
            File.Delete(other);
        }
    }

    /// <summary>A self-signed certificate with its key in a PKCS#12 file, as an operator would mount one.</summary>
    internal static string Certificate(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(Path.GetTempPath(), $"pim-keyring-{Guid.NewGuid():N}.pfx");
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, "pfx-password"));
        return path;
    }

    private static string SessionCookie(HttpResponseMessage response) =>
        string.Join("; ", response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Where(c => c.StartsWith("PimPortal.Session", StringComparison.Ordinal)));

    private static async Task<(string Status, List<(string Name, string Status, string? Description)> Checks)> Report(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.GetProperty("status").GetString()!,
            [.. json.RootElement.GetProperty("checks").EnumerateArray().Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("status").GetString()!, c.GetProperty("description").GetString()))]);
    }
}
