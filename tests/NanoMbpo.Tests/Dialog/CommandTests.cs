// `nanombpo eval` and `nanombpo track` in process: the JSON object's fields, the track summary line, and
// clear errors for bad files. Run: dotnet test --filter "FullyQualifiedName~Dialog.CommandTests".
using System.CommandLine;
using System.Text.Json;
using NanoMbpo.Trainer.Commands;
using Xunit;

namespace NanoMbpo.Tests.Dialog;

[Collection("Console")]
public class CommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    [Fact]
    public void EvalJsonPrintsOneObjectWithTheFields()
    {
        var (code, stdout, _) = Run("eval", "--policy", "rule", "--episodes", "200", "--seed", "3", "--json");
        Assert.Equal(0, code);
        Assert.Single(stdout.Trim().Split('\n'));
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        foreach (var f in new[] { "episodes", "success_rate", "success_ci_low", "success_ci_high", "avg_turns", "avg_return", "slot_f1", "hangup_rate" })
            Assert.True(root.TryGetProperty(f, out _), f);
        Assert.Equal(200, root.GetProperty("episodes").GetInt32());
        double s = root.GetProperty("success_rate").GetDouble();
        Assert.InRange(s, 0.95, 1.0);
        Assert.InRange(root.GetProperty("success_ci_low").GetDouble(), 0.0, s);
        Assert.InRange(root.GetProperty("success_ci_high").GetDouble(), s, 1.0);
    }

    [Fact]
    public void EvalTableAndBadArguments()
    {
        var (code, stdout, _) = Run("eval", "--policy", "random", "--episodes", "50", "--seed", "1");
        Assert.Equal(0, code);
        Assert.Contains("success rate", stdout);
        Assert.Contains("hang-up rate", stdout);
        var (bad, _, err) = Run("eval", "--policy", "smart", "--episodes", "5");
        Assert.NotEqual(0, bad);
        Assert.Contains("--policy", err);
    }

    [Fact]
    public void TrackEndsWithTheExactMatchLineAndReportsBadFiles()
    {
        string path = Path.Combine(Path.GetTempPath(), $"track-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path,
                "{\"test.SRC\": \"two large pizzas with ham\", \"test.EXR\": \"(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) (TOPPING HAM ) ) )\"}\n" +
                "{\"test.SRC\": \"a coke\", \"test.EXR\": \"(ORDER (DRINKORDER (NUMBER 1 ) (DRINKTYPE COKE ) ) )\"}\n" +
                "{\"test.SRC\": \"a pizza\", \"test.EXR\": \"(ORDER (PIZZAORDER (NUMBER 1 ) (TOPPING HAM ) ) )\"}\n");
            var (code, stdout, _) = Run("track", "--input", path);
            Assert.Equal(0, code);
            Assert.Equal("exact match 2/3 = 66.67%", stdout.Trim().Split('\n')[^1].Trim());
            File.AppendAllText(path, "[1, 2]\n");
            var (bad, _, err) = Run("track", "--input", path);
            Assert.NotEqual(0, bad);
            Assert.Contains(path + ":4", err);
            Assert.Contains("JSON object", err);
        }
        finally { File.Delete(path); }
    }
}
