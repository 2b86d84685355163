using PimPortal;

var builder = WebApplication.CreateBuilder(args);
builder.AddPimPortal();

var app = builder.Build();
await app.UsePimPortalAsync();
await app.RunAsync();

/// <summary>The web host's entry point (public for WebApplicationFactory in the tests).</summary>
public partial class Program;
