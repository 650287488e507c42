// Bad arguments never show a stack trace: walks every option of every (sub)command that CliHost builds (so
// commands added later are covered too), gives each bad values (non-numeric, below the minimum, above the
// maximum, huge, not finite, unknown choice, missing file) and asserts one line on stderr naming the option,
// exit code 2 and no "   at " frame. Also runs the real trainer as a child for the cases in issue 13, and checks
// that exceptions thrown inside an action (bad file content, inconsistent options) are mapped the same way.
using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using NanoMbpo.Trainer.Cli;
using Xunit;

namespace NanoMbpo.Tests.Reliability;

[Collection("Console")]
public sealed class CliArgumentTests
{
    static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    static bool IsInteger(Option o) => (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) is var t
        && (t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(uint) || t == typeof(ulong));
    static bool IsReal(Option o) => (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) is var t && (t == typeof(double) || t == typeof(float));

    /// <summary>Values that must be rejected for <paramref name="o"/> (none of them inside its valid range).</summary>
    public static List<string> BadValues(Option o, ArgumentRule? rule)
    {
        var bad = new List<string>();
        if (IsInteger(o) || IsReal(o)) bad.Add("abc");
        if (IsInteger(o)) bad.Add("1.5");
        if (rule is { IsNumeric: true })
        {
            if (double.IsFinite(rule.Min)) bad.Add(Num(rule.ExclusiveMin ? rule.Min : rule.Min - 1));
            if (double.IsFinite(rule.Max)) bad.Add(Num(rule.Max + 1));
            bad.Add("99999999999999999999");
            if (rule.Min > -3) bad.Add("-3");
            if (rule.Min > 0 || (rule.Min == 0 && rule.ExclusiveMin)) bad.Add("0");
            if (IsReal(o)) { bad.Add("NaN"); bad.Add("Infinity"); }
        }
        else if (IsInteger(o) && (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) is var t && (t == typeof(uint) || t == typeof(ulong)))
        {
            bad.Add("-3");
            bad.Add("99999999999999999999999");
        }
        if (rule?.Choices is not null) { bad.Add("no-such-choice"); bad.Add(""); }
        if (rule is { ExistingFile: true } or { ExistingDirectory: true }) bad.Add(Path.Combine(Path.GetTempPath(), "nanombpo-missing-" + Guid.NewGuid().ToString("N"), "x.json"));
        return bad;
    }

    /// <summary>A valid value for a required option other than the one under test (so its error is the one printed).</summary>
    static string ValidValue(Option o, ArgumentRule? rule, string tmp)
    {
        if (rule?.Choices is { } c) return c[0];
        if (rule is { ExistingFile: true }) { string f = Path.Combine(tmp, "in.txt"); File.WriteAllText(f, "x"); return f; }
        if (rule is { ExistingDirectory: true }) return tmp;
        if (rule is { IsNumeric: true }) return Num(Math.Max(rule.Min + (rule.ExclusiveMin ? 1 : 0), Math.Min(1, rule.Max)));
        if (IsInteger(o) || IsReal(o)) return "1";
        return Path.Combine(tmp, "out");
    }

    [Fact]
    public void EveryOptionOfEveryCommandRejectsBadValuesInOneLine()
    {
        string tmp = Directory.CreateTempSubdirectory("nanombpo-cli-").FullName;
        try
        {
            var root = CliHost.CreateRoot();
            int checkedOptions = 0, cases = 0;
            var failures = new List<string>();
            foreach (var (path, cmd) in ArgumentRules.Walk(root, ""))
            {
                foreach (var o in cmd.Options)
                {
                    if (o is HelpOption || o.ValueType == typeof(bool)) continue;
                    var bad = BadValues(o, ArgumentRules.For(path, o));
                    if (bad.Count == 0) continue; // free text (--filter, --out): any string is a valid value
                    checkedOptions++;
                    var required = cmd.Options.Where(r => r.Required && r != o)
                        .SelectMany(r => new[] { r.Name, ValidValue(r, ArgumentRules.For(path, r), tmp) }).ToArray();
                    foreach (string value in bad)
                    {
                        cases++;
                        string[] args = [.. path.Split(' '), .. required, o.Name, value];
                        var (code, stdout, err) = Cli.Run(args);
                        string line = err.TrimEnd('\n', '\r');
                        string shown = $"`{string.Join(' ', args)}` -> code {code}, stderr: {err.Trim()}";
                        if (code != CliHost.BadInput || line.Contains('\n') || err.Contains("   at ") || stdout.Length > 0
                            || !line.StartsWith("error: ", StringComparison.Ordinal) || !line.Contains(o.Name, StringComparison.Ordinal))
                            failures.Add(shown);
                    }
                }
            }
            Assert.True(failures.Count == 0, $"{failures.Count} of {cases} bad values not reported as one line with exit code 2:\n" + string.Join("\n", failures.Take(30)));
            Assert.True(checkedOptions >= 25, $"only {checkedOptions} options were checked; the command walk lost commands");
            Assert.True(cases >= 100, $"only {cases} cases");
        }
        finally { Directory.Delete(tmp, recursive: true); }
    }

    [Fact]
    public void EveryNumericOptionHasARangeAndEveryChoiceOptionItsChoices()
    {
        foreach (var (path, cmd) in ArgumentRules.Walk(CliHost.CreateRoot(), ""))
            foreach (var o in cmd.Options)
            {
                var rule = ArgumentRules.For(path, o);
                bool unsigned = (Nullable.GetUnderlyingType(o.ValueType) ?? o.ValueType) is var t && (t == typeof(uint) || t == typeof(ulong));
                if ((IsInteger(o) && !unsigned) || IsReal(o))
                    Assert.True(rule is { IsNumeric: true } && double.IsFinite(rule.Max), $"{path} {o.Name} has no finite range");
                if (o.HasDefaultValue && rule is { IsNumeric: true } && o.GetDefaultValue() is IConvertible d)
                {
                    double v = Convert.ToDouble(d, CultureInfo.InvariantCulture);
                    Assert.True(v <= rule.Max && (rule.ExclusiveMin ? v > rule.Min : v >= rule.Min), $"{path} {o.Name}: default {v} is outside its own rule ({rule.Expected})");
                }
            }
    }

    [Theory]
    [InlineData("--episodes", "0")]
    [InlineData("--policy", "foo")]
    [InlineData("--goals", "no-such-file.jsonl")]
    public void EvalBadArgumentNamesArgumentValueAndExpectation(string option, string value)
    {
        var (code, _, err) = Cli.Run("eval", option, value);
        Assert.Equal(2, code);
        Assert.Contains(option, err);
        Assert.Contains(value, err);
        Assert.Contains("expected", err);
    }

    [Fact]
    public void ExceptionsInsideAnActionAreOneLine()
    {
        string tmp = Path.Combine(Path.GetTempPath(), $"nanombpo-badgoals-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(tmp, "{\"dev.SRC\": \"a pizza\", \"dev.EXR\": \"(ORDER (PIZZAORDER (NUMBER x ) ) )\"}\n");
        try
        {
            var (code, stdout, err) = Cli.Run("eval", "--goals", tmp, "--episodes", "1");
            Assert.Equal(2, code);
            Assert.Single(err.TrimEnd().Split('\n'));
            Assert.Contains(tmp, err);
            Assert.DoesNotContain("   at ", stdout + err);
            (code, _, err) = Cli.Run("bench", "encoder", "--heads", "2", "--hidden", "15", "--seconds", "0.01");
            Assert.Equal(2, code);
            Assert.Single(err.TrimEnd().Split('\n'));
            Assert.Contains("--heads", err);
        }
        finally { File.Delete(tmp); }
    }

    [Theory]
    [InlineData("train", "--dialogs", "-3")]
    [InlineData("eval", "--policy", "foo")]
    [InlineData("corpus", "--dialogs", "abc")]
    public void RealProcessPrintsOneLineAndExitsWith2(string command, string option, string value)
    {
        var (code, stdout, err) = Child.Run(Child.TrainerDll, [command, option, value]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        string line = err.TrimEnd();
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("Unhandled exception", err);
        Assert.Contains(option, line);
        Assert.Contains(value, line);
    }
}
