// The score by folder and the surviving mutants of a Stryker report (mutation-testing-elements JSON), as the
// table docs/security.md keeps. Run by scripts/mutation.sh: dotnet run scripts/mutation-summary.cs -- <report.json>
using System.Text.Json;

using var report = JsonDocument.Parse(File.ReadAllText(args[0]));
var rows = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // killed, timeout, survived, no coverage
var survivors = new List<string>();
foreach (var file in report.RootElement.GetProperty("files").EnumerateObject())
{
    var path = file.Name.Replace('\\', '/');
    var at = path.IndexOf("PimPortal.Core/", StringComparison.Ordinal);
    var relative = at < 0 ? path : path[(at + "PimPortal.Core/".Length)..];
    var folder = relative.Contains('/') ? relative[..relative.IndexOf('/')] : "(root)";
    var counts = rows.TryGetValue(folder, out var found) ? found : rows[folder] = new int[4];
    foreach (var mutant in file.Value.GetProperty("mutants").EnumerateArray())
    {
        var status = mutant.GetProperty("status").GetString();
        var index = status switch { "Killed" => 0, "Timeout" => 1, "Survived" => 2, "NoCoverage" => 3, _ => -1 };
        if (index < 0)
        {
            continue;
        }

        counts[index]++;
        if (index >= 2)
        {
            var line = mutant.GetProperty("location").GetProperty("start").GetProperty("line").GetInt32();
            var replacement = mutant.TryGetProperty("replacement", out var r) ? r.GetString() : "";
            survivors.Add($"{relative}:{line}  {status}  {mutant.GetProperty("mutatorName").GetString()}: {replacement?.ReplaceLineEndings(" ")}");
        }
    }
}

Console.WriteLine("| Folder | Mutants | Killed | Timeout | Survived | No coverage | Score |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
var total = new int[4];
foreach (var (folder, c) in rows)
{
    Print(folder, c);
    for (var i = 0; i < 4; i++)
    {
        total[i] += c[i];
    }
}

Print("**All**", total);
Console.WriteLine();
Console.WriteLine($"Surviving and uncovered mutants ({survivors.Count}):");
survivors.Sort(StringComparer.Ordinal);
survivors.ForEach(s => Console.WriteLine("  " + s));

static void Print(string folder, int[] c)
{
    var valid = c.Sum();
    var score = valid == 0 ? 0 : 100.0 * (c[0] + c[1]) / valid;
    Console.WriteLine($"| {folder} | {valid} | {c[0]} | {c[1]} | {c[2]} | {c[3]} | {score:0.0} % |");
}
