// Parse-time validation of every option of every command, in one table. Apply(root) walks the whole command
// tree (so commands added later are covered without edits here) and attaches a System.CommandLine validator
// to each option: a range for numbers (from the table by "command path --option" or "--option", else a default
// derived from the option's type and default value), a choice list, or "must exist" for input files/folders.
// Every error is one line naming the option, the value and what was expected.
// Tested by tests/NanoMbpo.Tests/Reliability/CliArgumentTests.cs (walks every option with bad values).
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NanoMbpo.Trainer.Cli;

/// <summary>What an option accepts. Numbers use Min..Max inclusive (ExclusiveMin makes Min itself invalid).</summary>
public sealed record ArgumentRule(double Min = double.NegativeInfinity, double Max = double.PositiveInfinity,
    bool ExclusiveMin = false, string[]? Choices = null, bool ExistingFile = false, bool ExistingDirectory = false)
{
    public static ArgumentRule Count(long min, long max) => new(min, max);
    public static ArgumentRule Real(double min, double max, bool exclusiveMin = false) => new(min, max, exclusiveMin);
    public static ArgumentRule OneOf(params string[] choices) => new(Choices: choices);
    public static readonly ArgumentRule InputFile = new(ExistingFile: true);
    public static readonly ArgumentRule InputDirectory = new(ExistingDirectory: true);

    public bool IsNumeric => !double.IsNegativeInfinity(Min) || !double.IsPositiveInfinity(Max);

    public string Expected => Choices is not null ? "one of " + string.Join(", ", Choices)
        : ExistingFile ? "an existing file" : ExistingDirectory ? "an existing folder"
        : FormattableString.Invariant($"a number {(ExclusiveMin ? ">" : ">=")} {Min} and <= {Max}");
}

public static class ArgumentRules
{
    /// <summary>Keys are "--option" (any command) or "sub command --option" (that command only; wins).</summary>
    public static readonly IReadOnlyDictionary<string, ArgumentRule> Table = new Dictionary<string, ArgumentRule>
    {
        ["--dialogs"] = ArgumentRule.Count(1, 1_000_000),
        ["--epochs"] = ArgumentRule.Count(1, 100_000),
        ["--eval-episodes"] = ArgumentRule.Count(1, 1_000_000),
        ["--episodes"] = ArgumentRule.Count(1, 10_000_000),
        ["--threads"] = ArgumentRule.Count(1, 1024),
        ["--lr"] = ArgumentRule.Real(0, 10, exclusiveMin: true),
        ["--epsilon"] = ArgumentRule.Real(0, 1),
        ["--max-seq-len"] = ArgumentRule.Count(1, 4096),
        ["--errors"] = ArgumentRule.Count(0, 1_000_000),
        ["--m"] = ArgumentRule.Count(1, 65_536),
        ["--k"] = ArgumentRule.Count(1, 65_536),
        ["--n"] = ArgumentRule.Count(1, 65_536),
        ["--pack"] = ArgumentRule.Count(-1, 1),
        ["--steps"] = ArgumentRule.Count(1, 100_000_000),
        ["--warmup"] = ArgumentRule.Count(0, 100_000_000),
        ["--rounds"] = ArgumentRule.Count(1, 1000),
        ["--seconds"] = ArgumentRule.Real(0, 7 * 86_400, exclusiveMin: true),
        ["--goals"] = ArgumentRule.InputFile,
        ["--input"] = ArgumentRule.InputFile,
        ["--catalogs"] = ArgumentRule.InputDirectory,
        ["--reply-weight"] = ArgumentRule.Real(0, 1000),
        ["--reply-model"] = ArgumentRule.InputDirectory,
        ["--updates-per-step"] = ArgumentRule.Count(1, 1000),
        ["--seeds"] = ArgumentRule.Count(1, 100),
        ["--embedder"] = ArgumentRule.OneOf("bert", "hashed"),
        ["train --pooling"] = ArgumentRule.OneOf("cls", "mean"),
        ["train --method"] = ArgumentRule.OneOf([.. NanoMbpo.Agent.SellerMethods.Names, "bc"]),
        ["train --reward"] = ArgumentRule.OneOf("reply-model", "task", "llm"),
        ["compare --reward"] = ArgumentRule.OneOf("reply-model", "task"),
        ["reply-model --dialogs"] = ArgumentRule.Count(5, 1_000_000),   // one in five episodes is held out
        ["bench gemm --device"] = ArgumentRule.OneOf("cpu", "cuda"),
        ["fuzz --target"] = ArgumentRule.OneOf([.. Fuzz.FuzzTargets.Names, "all"]),
    };

    /// <summary>Default bound for integer options the table does not name (well past any real run).</summary>
    public const long DefaultMaxCount = 1 << 24;
    /// <summary>Default bound for real-valued options the table does not name.</summary>
    public const double DefaultMaxReal = 1e6;

    /// <summary>The rule for <paramref name="option"/> under <paramref name="commandPath"/> ("bench gemm"), or null (free text, flags).</summary>
    public static ArgumentRule? For(string commandPath, Option option)
    {
        if (Table.TryGetValue(commandPath + " " + option.Name, out var r) || Table.TryGetValue(option.Name, out r)) return r;
        Type t = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        bool integer = t == typeof(int) || t == typeof(long) || t == typeof(short), real = t == typeof(double) || t == typeof(float);
        if (!integer && !real) return null;
        double def = option.HasDefaultValue && option.GetDefaultValue() is IConvertible c ? Convert.ToDouble(c, CultureInfo.InvariantCulture) : 0;
        if (integer)
            return ArgumentRule.Count((long)Math.Min(1, def), (long)Math.Max(DefaultMaxCount, def));
        return ArgumentRule.Real(Math.Min(0, def), Math.Max(DefaultMaxReal, def));
    }

    /// <summary>Attaches the validators to every option of every command under <paramref name="root"/>.</summary>
    public static void Apply(Command root)
    {
        foreach (var (path, cmd) in Walk(root, ""))
            foreach (var option in cmd.Options)
                if (For(path, option) is { } rule) option.Validators.Add(result => Check(result, rule));
    }

    /// <summary>Every command below <paramref name="root"/> with its path ("bench gemm").</summary>
    public static IEnumerable<(string Path, Command Command)> Walk(Command root, string prefix)
    {
        foreach (var sub in root.Subcommands)
        {
            string path = prefix.Length == 0 ? sub.Name : prefix + " " + sub.Name;
            yield return (path, sub);
            foreach (var x in Walk(sub, path)) yield return x;
        }
    }

    static void Check(OptionResult result, ArgumentRule rule)
    {
        if (result.Implicit || result.Errors.Any()) return; // defaults are trusted; a type error is already reported
        string name = result.Option.Name;
        string text = string.Join(" ", result.Tokens.Select(t => t.Value));
        if (rule.Choices is { } choices)
        {
            if (!choices.Contains(text, StringComparer.Ordinal)) result.AddError($"{name} '{text}': expected {rule.Expected}");
            return;
        }
        if (rule.ExistingFile || rule.ExistingDirectory)
        {
            bool ok = text.Length > 0 && (rule.ExistingFile ? File.Exists(text) : Directory.Exists(text));
            if (!ok) result.AddError($"{name} '{text}': expected {rule.Expected}, found none at that path");
            return;
        }
        if (!rule.IsNumeric) return;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
        {
            result.AddError($"{name} '{text}': expected {rule.Expected}");
            return;
        }
        bool low = rule.ExclusiveMin ? v <= rule.Min : v < rule.Min;
        if (low || v > rule.Max) result.AddError($"{name} {text}: expected {rule.Expected}");
    }
}
