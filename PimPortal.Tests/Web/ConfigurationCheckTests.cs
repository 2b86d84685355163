using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using PimPortal.Core;
using PimPortal.Core.Directory.Graph;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Web;

/// <summary>Every <c>Pim:*</c> rule, and the portal's start refusing a bad value in one line naming the key, the value and what is allowed.</summary>
public sealed class ConfigurationCheckTests
{
    [Fact]
    public void TheDefaults_AndTheDocumentedExamples_AreAccepted()
    {
        Assert.Empty(ProblemsWith());
        Assert.Empty(ProblemsWith(("Smtp:Host", "smtp.contoso.com"), ("Smtp:Port", "587"), ("Smtp:Security", "StartTls"), ("Smtp:UserName", "pim"), ("Smtp:Password", "x"),
            ("PublicUrl", "https://pim.contoso.com"), ("Audit:Retention", "365.00:00:00"), ("Audit:ArchiveDirectory", Path.Combine(Path.GetTempPath(), $"pim-archive-{Guid.NewGuid():N}"))));
        Assert.Empty(ProblemsWith(("Database:Provider", "PostgreSql"), ("DataProtection:AllowUnencryptedKeys", "true")));
    }

    [Theory]
    [InlineData("Jobs:OutboxPollInterval", "00:00:00", "a positive time span")]
    [InlineData("Jobs:ExpiryMaxIdle", "-00:00:01", "a positive time span")]
    [InlineData("Jobs:OutboxMaxAttempts", "0", "from 1 to 100")]
    [InlineData("Jobs:OutboxCoalesce", "00:00:10", "from 00:00:00 to 00:00:05")]
    [InlineData("Jobs:OutboxLease", "00:00:01", "at least 00:00:05")]
    [InlineData("Activation:JustificationMinimum", "0", "a whole number from 1 to 100")]
    [InlineData("RateLimits:SignIn:PerAddress:PermitLimit", "-1", "a whole number from 0 (no limit) to 10000")]
    [InlineData("RateLimits:StepUp:PerAccount:Window", "00:00:00", "from 00:00:01 to 1.00:00:00")]
    [InlineData("Jobs:DirectorySyncInterval", "00:00:00", "a positive time span")]
    [InlineData("Jobs:DriftInterval", "00:00:00", "a positive time span")]
    [InlineData("Jobs:ChangeFeedInterval", "00:00:00", "a positive time span")]
    [InlineData("StepUp:FreshFor", "02:00:00", "at most 01:00:00")]
    [InlineData("StepUp:LockoutFor", "00:00:00", "a positive time span")]
    [InlineData("Alerts:Interval", "00:00:00", "a positive time span")]
    [InlineData("Alerts:GlobalAdministratorCount", "-1", "from 0 to 1000")]
    [InlineData("Alerts:GlobalAdministratorShare", "1.5", "a share from 0 to 1")]
    [InlineData("Alerts:StaleAfterDays", "0", "from 1 to 3650")]
    [InlineData("Alerts:FrequentActivationCount", "0", "from 1 to 10000")]
    [InlineData("Alerts:FrequentActivationWindow", "00:00:00", "a positive time span")]
    [InlineData("Alerts:EligibilityNotice", "-1.00:00:00", "zero (no notice)")]
    [InlineData("Audit:SealInterval", "00:00:00", "a positive time span")]
    [InlineData("Audit:Retention", "01:00:00", "at least 1.00:00:00")]
    [InlineData("Reviews:Interval", "00:00:00", "a positive time span")]
    [InlineData("PublicUrl", "pim.contoso.com", "an absolute http or https address")]
    [InlineData("PublicUrl", "ftp://pim.contoso.com/", "an absolute http or https address")]
    public void ABadValue_IsNamed_WithWhatIsAllowed(string key, string value, string allowed)
    {
        var problem = Assert.Single(ProblemsWith((key, value)));

        Assert.StartsWith($"Pim:{key} is '{value}': allowed is ", problem, StringComparison.Ordinal);
        Assert.Contains(allowed, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("465", "StartTls", null, "Pim:Smtp:Port is '465'")]
    [InlineData("587", "SslOnConnect", null, "Pim:Smtp:Port is '587'")]
    [InlineData("70000", "Auto", null, "Pim:Smtp:Port is '70000'")]
    [InlineData("25", "None", "pim", "Pim:Smtp:Security is 'None'")]
    public void SmtpSettings_MustAgree(string port, string security, string? user, string expected)
    {
        var settings = new List<(string, string)> { ("Smtp:Host", "smtp.contoso.com"), ("Smtp:Port", port), ("Smtp:Security", security) };
        if (user is not null)
        {
            settings.AddRange([("Smtp:UserName", user), ("Smtp:Password", "secret")]);
        }

        var problem = Assert.Single(ProblemsWith([.. settings]));

        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void SmtpWithoutAHost_IsNotChecked_ButAUserWithoutPasswordOrABadSenderIs()
    {
        Assert.Empty(ProblemsWith(("Smtp:Port", "0")));
        Assert.Equal(
            ["Pim:Smtp:Password is '(empty)': allowed is the password of Pim:Smtp:UserName.", "Pim:Smtp:From is 'not an address <': allowed is a mail address, e.g. PimPortal <pim@contoso.com>."],
            ProblemsWith(("Smtp:Host", "smtp.contoso.com"), ("Smtp:Port", "587"), ("Smtp:UserName", "pim"), ("Smtp:From", "not an address <")));
    }

    [Fact]
    public void AnArchiveDirectoryThatCannotBeWritten_IsRefused_WhenEventsArePruned()
    {
        var file = Path.GetTempFileName();
        try
        {
            var unwritable = Path.Combine(file, "archive");
            Assert.Empty(ProblemsWith(("Audit:ArchiveDirectory", unwritable)));
            var problem = Assert.Single(ProblemsWith(("Audit:Retention", "30.00:00:00"), ("Audit:ArchiveDirectory", unwritable)));
            Assert.StartsWith($"Pim:Audit:ArchiveDirectory is '{unwritable}': allowed is a directory this process can create and write", problem, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ASharedDatabase_NeedsACertificateForTheKeyRing_OrTheRiskAccepted()
    {
        var problem = Assert.Single(ProblemsWith(("Database:Provider", "PostgreSql")));

        Assert.StartsWith("Pim:DataProtection:CertificatePath is '(unset)': allowed is a certificate that encrypts the shared key ring at rest: on PostgreSql", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void EntraMode_NeedsTheAuthenticationContextAndGraphCredentials_AllOrNoneForAStub()
    {
        Assert.Equal("Pim:StepUp:AuthenticationContext is 'mfa': allowed is a Conditional Access authentication context id, c1 to c99.",
            Assert.Single(ProblemsWith(("Mode", "Entra"), ("StepUp:AuthenticationContext", "mfa"))));

        var graph = new GraphDirectoryOptionsValidator();
        Assert.Equal(3, ConfigurationCheck.Problems(graph, new GraphDirectoryOptions()).Count);
        Assert.Empty(ConfigurationCheck.Problems(graph, new GraphDirectoryOptions { BaseUrl = new("http://127.0.0.1:5999/v1.0") }));
        Assert.Equal(["Pim:Graph:ClientSecret is '': allowed is that app registration's client secret (docs/entra-setup.md) (Pim:Mode is Entra)."],
            ConfigurationCheck.Problems(graph, new GraphDirectoryOptions { BaseUrl = new("http://127.0.0.1:5999/v1.0"), TenantId = "t", ClientId = "c" }));
        Assert.Equal(["Pim:Graph:Parallelism is '0': allowed is a whole number from 1 to 32."],
            ConfigurationCheck.Problems(graph, new GraphDirectoryOptions { BaseUrl = new("http://127.0.0.1:5999/v1.0"), Parallelism = 0 }));
    }

    [Theory]
    [InlineData("--Pim:Jobs:OutboxLease=00:00:01", "PimPortal cannot start: Pim:Jobs:OutboxLease is '00:00:01': allowed is at least 00:00:05")]
    [InlineData("--Pim:Jobs:OutboxLease=soon", "PimPortal cannot start: Failed to convert configuration value 'soon' at 'Pim:Jobs:OutboxLease' to type 'System.TimeSpan'")]
    [InlineData("--Pim:Mode=Entraa", "PimPortal cannot start: Failed to convert configuration value 'Entraa' at 'Pim:Mode'")]
    [InlineData("--ForwardedHeaders:KnownProxies:0=10.0.0.300", "PimPortal cannot start: ForwardedHeaders:KnownProxies:0 is '10.0.0.300': allowed is an IP address")]
    [InlineData("--ForwardedHeaders:KnownNetworks:0=10.244.0.0/33", "PimPortal cannot start: ForwardedHeaders:KnownNetworks:0 is '10.244.0.0/33': allowed is a network in CIDR notation")]
    [InlineData("--Pim:DataProtection:CertificatePath=/no/such/cert.pfx", "PimPortal cannot start: Pim:DataProtection:CertificatePath is '/no/such/cert.pfx': no such file.")]
    public async Task TheRealPortal_StopsOnABadValue_InOneLine_WritingNothing(string setting, string expected)
    {
        var file = Path.Combine(Path.GetTempPath(), $"pim-config-{Guid.NewGuid():N}.db");

        var (code, output) = await PortalProcess.RunToExitAsync(setting, $"--ConnectionStrings:Pim=Data Source={file}");

        Assert.True(code == 3, output);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith(expected, line, StringComparison.Ordinal);
        Assert.False(File.Exists(file), "The database was touched.");
    }

    [Fact]
    public async Task ASharedDatabaseThatIsNotMigrated_StopsTheStart_SayingWhatToDo()
    {
        await using var empty = await TestDatabase.CreateEmptyPostgresAsync();

        var (code, output) = await PortalProcess.RunToExitAsync("--Pim:Database:Provider=PostgreSql", $"--ConnectionStrings:Pim={empty.ConnectionString}",
            "--Pim:DataProtection:AllowUnencryptedKeys=true");

        Assert.True(code == 3, output);
        Assert.Contains("PimPortal cannot start: The PostgreSql database is not migrated: ", output, StringComparison.Ordinal);
        Assert.Contains("or set Pim:Database:MigrateOnStart=true.", output, StringComparison.Ordinal);
        Assert.Equal(0, await empty.CountTablesAsync());
    }

    private static List<string> ProblemsWith(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => KeyValuePair.Create($"Pim:{s.Key}", (string?)s.Value))).Build();
        return [.. ConfigurationCheck.Problems(configuration.GetSection(PimOptions.Section).Get<PimOptions>() ?? new PimOptions())];
    }
}

/// <summary>The real portal as a separate OS process (<c>dotnet PimPortal.dll</c>), as an operator starts it.</summary>
public static class PortalProcess
{
    /// <summary>
    /// How to start the built portal with <paramref name="args"/>. Under mutation testing the child is kept out of
    /// Stryker's per-test coverage (it would report coverage nobody collects, and every later test would wait for it).
    /// </summary>
    public static ProcessStartInfo StartInfo(params string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove("STRYKER_COVERAGE_EPOCH_FILE");
        start.Environment.Remove("STRYKER_COVERAGE_FILE");
        return start;
    }

    /// <summary>Runs the portal with <paramref name="args"/> until it exits (it is expected to refuse to start); its exit code and everything it printed.</summary>
    public static async Task<(int Code, string Output)> RunToExitAsync(params string[] args)
    {
        var start = StartInfo(args);
        start.ArgumentList.Add("--Logging:LogLevel:Default=None");
        start.ArgumentList.Add("--urls=http://127.0.0.1:0");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("The portal did not stop within a minute: it started instead of refusing to.");
        }

        return (process.ExitCode, (await output) + (await error));
    }
}
