// Runs `nanombpo` sub-commands in process with Console redirected, through the same CliHost as Program.cs. Tests that use it belong to the
// "Console" collection, so xunit never runs two of them at once (Console is process-wide).
using NanoMbpo.Trainer.Cli;
using Xunit;

namespace NanoMbpo.Tests;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

public static class Cli
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (CliHost.Run(args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
