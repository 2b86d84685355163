using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core.Audit;
using PimPortal.Core.Features.Audit;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Web;

/// <summary><c>dotnet PimPortal.dll verify-audit</c> — the portal's own entry point, as <c>dotnet run --project PimPortal -- verify-audit</c> runs it.</summary>
public sealed class VerifyAuditCommandLineTests : IAsyncLifetime
{
    private TestApp? app;

    private TestApp App => app!;

    public async ValueTask InitializeAsync() => app = await TestApp.StartAsync(DatabaseKind.Sqlite);

    public async ValueTask DisposeAsync() => await App.DisposeAsync();

    [Fact]
    public async Task VerifyAudit_ExitsZeroWhenIntact_AndOneNamingTheEditedEvent()
    {
        await App.ActivateAsync(DemoOrganisation.Alice, DemoOrganisation.ExchangeAdministrator, ticket: "INC-42");
        await App.Services.GetRequiredService<AuditTrail>().SealAsync(CancellationToken.None);
        var digest = Path.GetTempFileName();
        await using (var file = File.Create(digest))
        {
            await App.SendAs(DemoOrganisation.Dave, new ExportAuditDigest(file));
        }

        var (intactCode, intactOutput) = await RunAsync("verify-audit", "--digest", digest);
        Assert.True(intactCode == 0, intactOutput);
        Assert.StartsWith("Intact:", intactOutput, StringComparison.Ordinal);

        var victim = await App.Db(db => db.AuditEvents.Where(e => e.Action == Core.Domain.AuditActions.ActivationRequested).Select(e => e.Id).SingleAsync());
        await App.Db(async db =>
        {
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER \"TR_AuditEvents_NoUpdate\"");
            return await db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"ActorName\" = 'Mallory' WHERE \"Id\" = {victim}");
        });

        var (brokenCode, brokenOutput) = await RunAsync("verify-audit");
        Assert.True(brokenCode == 1, brokenOutput);
        Assert.Contains($"First broken place: edited, event #{victim}", brokenOutput, StringComparison.Ordinal);

        var (usageCode, usageOutput) = await RunAsync("verify-audit", "--archive", Path.Combine(Path.GetTempPath(), "no-such-archive.jsonl"));
        Assert.True(usageCode == 2, usageOutput);
        Assert.Contains("could not verify", usageOutput, StringComparison.Ordinal);
        File.Delete(digest);
    }

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        var start = PortalProcess.StartInfo(args);
        start.ArgumentList.Add($"--ConnectionStrings:Pim={App.Database.ConnectionString}");
        start.ArgumentList.Add("--Pim:Database:Provider=Sqlite");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, (await output) + (await error));
    }
}
