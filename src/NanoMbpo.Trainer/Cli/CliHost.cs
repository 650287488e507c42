// The one place where `nanombpo` parses and runs a command line: Program.cs and the in-process test helper
// (tests/NanoMbpo.Tests/Cli.cs) both call Run. Parse errors (validators from ArgumentRules included) and the
// exceptions an action throws for bad input (ArgumentException, IOException and the format exceptions, etc.)
// become one line "error: ..." on stderr and exit code 2; never a stack trace. An unexpected exception is one
// line too (exit code 70) naming its type; NANOMBPO_STACKTRACE=1 adds the trace for debugging.
// Tested by tests/NanoMbpo.Tests/Reliability/CliArgumentTests.cs.
using System.CommandLine;
using System.CommandLine.Help;
using NanoMbpo.Dialog.Rewards;
using NanoMbpo.Trainer.Commands;

namespace NanoMbpo.Trainer.Cli;

public static class CliHost
{
    public const int BadInput = 2;
    public const int InternalError = 70;

    /// <summary>The root command with every sub-command of <see cref="CommandList"/> and the argument rules attached.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("NanoMbpo: model-based RL (MBPO + SAC) for a pizza-shop seller chatbot, in pure C#.");
        foreach (var c in CommandList.All()) root.Subcommands.Add(c);
        ArgumentRules.Apply(root);
        return root;
    }

    /// <summary>Parses without response files: an "@name" token is a value, never a file to open.</summary>
    public static ParseResult Parse(Command root, string[] args) =>
        root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });

    /// <summary>Parses and runs <paramref name="args"/>, writing to Console.Out / Console.Error.</summary>
    public static int Run(string[] args)
    {
        ParseResult parse = Parse(CreateRoot(), args);
        bool help = parse.Action is HelpAction || args.Any(a => a is "-h" or "--help" or "-?");
        if (parse.Errors.Count > 0 && !help) return ReportParseErrors(parse, Console.Error);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = Console.Out, Error = Console.Error });
        }
        catch (Exception e)
        {
            return Report(e, Console.Error);
        }
    }

    /// <summary>Writes the first parse error as one line (it names the option, the value and what was expected)
    /// and returns the exit code (2).</summary>
    public static int ReportParseErrors(ParseResult parse, TextWriter error)
    {
        // A "required" error is shown only when nothing the user typed was wrong.
        var first = parse.Errors.OrderBy(e => e.Message.Contains("required", StringComparison.OrdinalIgnoreCase) ? 1 : 0).First();
        error.WriteLine("error: " + OneLine(first.Message) + (parse.Errors.Count > 1 ? $" (and {parse.Errors.Count - 1} more)" : ""));
        return BadInput;
    }

    /// <summary>Writes the one-line report of <paramref name="e"/> and returns the exit code.</summary>
    public static int Report(Exception e, TextWriter error)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerException!;
        bool badInput = IsBadInput(e);
        string line = badInput ? "error: " + OneLine(e.Message) : $"error: internal error ({e.GetType().Name}): {OneLine(e.Message)}";
        error.WriteLine(line);
        if (Environment.GetEnvironmentVariable("NANOMBPO_STACKTRACE") == "1") error.WriteLine(e.ToString());
        return badInput ? BadInput : InternalError;
    }

    /// <summary>Exceptions that mean "the input (argument, file, endpoint) is bad", not "the program is wrong".</summary>
    public static bool IsBadInput(Exception e) => e is ArgumentException or IOException or FormatException
        or UnauthorizedAccessException or LlmJudgeException or DeviceUnavailableException or NonFiniteException
        or System.Text.Json.JsonException or NotSupportedException or PlatformNotSupportedException;

    /// <summary>Collapses line breaks so a message stays on one line.</summary>
    public static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
