using System.Reflection;
using System.Text.RegularExpressions;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PimPortal.Core;
using PimPortal.Core.Features.Activation;
using PimPortal.Core.Seed;
using PimPortal.Tests.Infrastructure;

namespace PimPortal.Tests.Security;

/// <summary>
/// Who may do what, for every Mediator command and query in PimPortal.Core (found by reflection: a new one is in the
/// matrix without anyone remembering), as every kind of user, compared cell by cell with the table in
/// docs/permissions.md — which is therefore the documentation of the permissions, and cannot drift from them.
/// Commands run their real scenario (<see cref="CommandScenarios"/>): <c>yes</c> must succeed, <c>no</c> is refused by
/// the permission check (sign-in, account, portal permission), <c>own</c> is refused on someone else's ids although
/// the permission would allow it. Queries run with empty parameters: <c>yes</c> is past the permission check.
/// </summary>
public sealed partial class AuthorizationMatrixTests
{
    /// <summary>The columns of the table, in order.</summary>
    private static readonly string[] Personas =
        ["anonymous", "eligible admin", "approver", "governance lead", "auditor", "PIM administrator", "disabled account", "break-glass"];

    private static readonly Dictionary<string, DemoAccount?> Accounts = new()
    {
        ["anonymous"] = null,
        ["eligible admin"] = DemoOrganisation.Alice,
        ["approver"] = DemoOrganisation.Bob,
        ["governance lead"] = DemoOrganisation.Carol,
        ["auditor"] = DemoOrganisation.Dave,
        ["PIM administrator"] = DemoOrganisation.Erin,
        ["disabled account"] = DemoOrganisation.Erin, // the PIM administrator, disabled: the most a stale session could do
        ["break-glass"] = DemoOrganisation.BreakGlass,
    };

    private static readonly Lazy<Dictionary<string, string[]>> Table = new(ReadTable);

    public static TheoryData<string> Commands => [.. Messages(typeof(IBaseCommand)).Select(t => t.Name)];

    public static TheoryData<string> Queries => [.. Messages(typeof(IBaseQuery)).Select(t => t.Name)];

    [Fact]
    public void EveryCommandAndQuery_HasARow_AndEveryRowAMessage()
    {
        var messages = Messages(typeof(IBaseCommand)).Concat(Messages(typeof(IBaseQuery))).Select(t => t.Name).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(messages, Table.Value.Keys.Order(StringComparer.Ordinal));
        Assert.All(Table.Value, row => Assert.All(row.Value, cell => Assert.Contains(cell, new[] { "yes", "no", "own" })));
        Assert.All(Messages(typeof(IBaseQuery)), q => Assert.DoesNotContain("own", Table.Value[q.Name]));
        Assert.Equal(Messages(typeof(IBaseCommand)).Select(t => t.Name).Order(StringComparer.Ordinal), CommandScenarios.All.Keys.Select(t => t.Name).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Command_AsEveryone_IsAllowedOrRefused_AsTheTableSays(string name)
    {
        var type = Messages(typeof(IBaseCommand)).Single(t => t.Name == name);
        var expected = Row(name);
        var observed = new string[Personas.Length];
        var why = new string?[Personas.Length];

        // Refusals first, all on one arranged state (a refusal changes nothing but the audit trail); each success on
        // a state of its own, as the first success would change what the next one sees.
        await using (var app = await TestApp.StartAsync(DatabaseKind.Sqlite))
        {
            var (_, message) = await CommandScenarios.All[type](app);
            for (var i = 0; i < Personas.Length; i++)
            {
                if (expected[i] != "yes")
                {
                    var outcome = await RunAsync(app, Personas[i], message);
                    (observed[i], why[i]) = (Verdict(outcome), outcome?.Message);
                }
            }
        }

        for (var i = 0; i < Personas.Length; i++)
        {
            if (expected[i] == "yes")
            {
                await using var app = await TestApp.StartAsync(DatabaseKind.Sqlite);
                var (_, message) = await CommandScenarios.All[type](app);
                var outcome = await RunAsync(app, Personas[i], message);
                (observed[i], why[i]) = (Verdict(outcome), outcome?.Message);
            }
        }

        Assert.True(expected.SequenceEqual(observed), $"{name}: the table says | {string.Join(" | ", expected)} |, the portal does | {string.Join(" | ", observed)} | — " +
            string.Join("; ", Personas.Select((p, i) => (p, i)).Where(x => expected[x.i] != observed[x.i]).Select(x => $"{x.p}: {why[x.i] ?? "succeeded"}")));
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public async Task Query_AsEveryone_IsAllowedOrRefused_AsTheTableSays(string name)
    {
        var type = Messages(typeof(IBaseQuery)).Single(t => t.Name == name);
        var expected = Row(name);
        await using var app = await TestApp.StartAsync(DatabaseKind.Sqlite);

        var observed = new string[Personas.Length];
        for (var i = 0; i < Personas.Length; i++)
        {
            var outcome = await RunAsync(app, Personas[i], Empty(type));
            observed[i] = IsPermissionRefusal(outcome) ? "no" : "yes";
        }

        Assert.True(expected.SequenceEqual(observed), $"{name}: the table says | {string.Join(" | ", expected)} |, the portal does | {string.Join(" | ", observed)} |");
    }

    /// <summary><c>yes</c>: it succeeded; <c>no</c>: the permission check refused; <c>own</c>: refused past that check.</summary>
    private static string Verdict(Exception? outcome) => outcome switch
    {
        null => "yes",
        _ when IsPermissionRefusal(outcome) => "no",
        PimException => "own",
        _ => $"failed: {outcome.GetType().Name}: {outcome.Message}",
    };

    /// <summary>Refused by the authorization behaviour: not signed in, unknown or disabled account, missing permission.</summary>
    private static bool IsPermissionRefusal(Exception? outcome) =>
        outcome is ForbiddenException { Message: var m }
        && (m is "Sign in first." or "Your account is not known to the directory." or "Your account is disabled." || m.StartsWith("This needs the ", StringComparison.Ordinal));

    private static async Task<Exception?> RunAsync(TestApp app, string persona, object message)
    {
        var disable = persona == "disabled account";
        if (disable)
        {
            await SetEnabledAsync(app, DemoOrganisation.Erin.Id, false);
        }

        try
        {
            await using var scope = app.Services.CreateAsyncScope();
            if (Accounts[persona] is { } who)
            {
                scope.ServiceProvider.GetRequiredService<TestCurrentUser>().SignIn(who);
            }

            await scope.ServiceProvider.GetRequiredService<ISender>().Send(message);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
        finally
        {
            if (disable)
            {
                await SetEnabledAsync(app, DemoOrganisation.Erin.Id, true);
            }
        }
    }

    private static Task SetEnabledAsync(TestApp app, Guid principal, bool enabled) =>
        app.Db(db => db.Principals.Where(p => p.Id == principal).ExecuteUpdateAsync(u => u.SetProperty(p => p.IsEnabled, enabled)));

    /// <summary>A query with its parameters' defaults (or empty values): the permission check does not read them.</summary>
    private static object Empty(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        return constructor.Invoke([.. constructor.GetParameters().Select(p => p.HasDefaultValue ? p.DefaultValue : EmptyOf(p.ParameterType))]);
    }

    private static object? EmptyOf(Type type) =>
        type == typeof(string) ? "" :
        type.IsValueType ? Activator.CreateInstance(type) :
        type.GetConstructor(Type.EmptyTypes) is { } parameterless ? parameterless.Invoke(null) :
        type.IsClass && !type.IsAbstract && type.GetConstructors().Length > 0 ? Empty(type) :
        null;

    private static IEnumerable<Type> Messages(Type kind) =>
        typeof(ActivateRoles).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && kind.IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    private static string[] Row(string name) =>
        Table.Value.TryGetValue(name, out var row) ? row : throw new Xunit.Sdk.XunitException($"docs/permissions.md has no row for {name}: add it (who may do it is a decision, not an observation).");

    private static Dictionary<string, string[]> ReadTable()
    {
        var path = Path.Combine(RepositoryRoot(), "docs", "permissions.md");
        var rows = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            if (RowPattern().Match(line) is { Success: true } match)
            {
                rows.Add(match.Groups[1].Value, [.. line.Split('|', StringSplitOptions.TrimEntries).Skip(2).Take(Personas.Length)]);
            }
        }

        return rows;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PimPortal.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("PimPortal.sln not found above the test's directory.");
    }

    [GeneratedRegex(@"^\| `([A-Za-z]+)` \|")]
    private static partial Regex RowPattern();
}
