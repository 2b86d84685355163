using PimPortal;

if (args is ["verify-audit", ..])
{
    return await AuditCommandLine.RunAsync(args[1..], Console.Out);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddPimPortal();

var app = builder.Build();
await app.UsePimPortalAsync();
await app.RunAsync();
return 0;

/// <summary>The web host's entry point (public for WebApplicationFactory in the tests).</summary>
public partial class Program;
