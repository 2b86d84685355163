using PimPortal;

if (args is ["verify-audit", ..])
{
    return await AuditCommandLine.RunAsync(args[1..], Console.Out);
}

if (args is ["probe", ..])
{
    return await ProbeCommandLine.RunAsync(args[1..], Console.Out);
}

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddPimPortal();

    var app = builder.Build();
    await app.UsePimPortalAsync();
    await app.RunAsync();
    return 0;
}
catch (PimPortal.Core.StartupException problem) when (System.Reflection.Assembly.GetEntryAssembly() == typeof(Program).Assembly)
{
    // (Only when this is the process: a test's host factory runs this entry point inside its own and gets the exception.)
    // One line per problem, naming the setting and what it may be; nothing was written.
    foreach (var line in problem.Problems)
    {
        await Console.Error.WriteLineAsync("PimPortal cannot start: " + line);
    }

    return 3;
}

/// <summary>The web host's entry point (public for WebApplicationFactory in the tests).</summary>
public partial class Program;
