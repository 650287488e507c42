// Runs `nanombpo` sub-commands in process with Console redirected. Tests that use it belong to the
// "Console" collection, so xunit never runs two of them at once (Console is process-wide).
using System.CommandLine;
using NanoMbpo.Trainer.Commands;
using Xunit;

namespace NanoMbpo.Tests;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

public static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand("test");
        foreach (var c in CommandList.All()) root.Subcommands.Add(c);
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
