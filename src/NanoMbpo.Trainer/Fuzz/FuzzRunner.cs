// Runs one fuzz input through a target and judges it. The property: the parser returns, or throws its own
// format exception whose message names the input file; never another exception type, never longer than the
// time limit (a hang), never allocating more than the input size allows (an allocation driven by a length
// field). Campaign runs the loop behind `nanombpo fuzz`. Tested by tests/NanoMbpo.Tests/Reliability/FuzzTests.cs.
using System.Diagnostics;

namespace NanoMbpo.Trainer.Fuzz;

public static class FuzzRunner
{
    /// <summary>Wall-clock limit of one input before it counts as a hang.</summary>
    public static TimeSpan Limit { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Allocation allowed for an input of <paramref name="length"/> bytes.</summary>
    public static long AllocationBound(int length) => (16L << 20) + 64L * length;

    /// <summary>A per-target scratch file path (its folder is created) in the temp folder.</summary>
    public static string Scratch(FuzzTarget t) =>
        Path.Combine(Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"nanombpo-fuzz-{Environment.ProcessId}")).FullName,
            $"{t.Name}-{Environment.CurrentManagedThreadId}.input");

    /// <summary>Null when the input passes, else what went wrong (one line).</summary>
    public static string? Check(FuzzTarget t, byte[] input, string? scratch = null)
    {
        scratch ??= Scratch(t);
        string? failure = null;
        var task = Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try { t.Run(input, scratch); }
            catch (Exception e)
            {
                string name = Path.GetFileName(scratch);
                if (t.IsOwnError is null || !t.IsOwnError(e))
                    failure = $"foreign exception {e.GetType().FullName}: {e.Message} at {FirstFrame(e)} (source {e.Source})";
                else if (!e.Message.Contains(name, StringComparison.Ordinal))
                    failure = $"{e.GetType().Name} does not name the file '{name}': {e.Message}";
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (failure is null && allocated > AllocationBound(input.Length))
                failure = $"allocated {allocated} bytes for a {input.Length}-byte input (bound {AllocationBound(input.Length)})";
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (!task.Wait(Limit)) return $"hang: no result within {Limit.TotalSeconds} s";
        return failure;
    }

    static string FirstFrame(Exception e) =>
        new StackTrace(e, false).GetFrames().FirstOrDefault(f => f.GetMethod() is not null) is { } f ? $"{f.GetMethod()!.DeclaringType?.Name}.{f.GetMethod()!.Name}" : "?";

    /// <summary>Runs random inputs for <paramref name="seconds"/>; returns (inputs tried, failing inputs).</summary>
    public static (long Tried, List<(byte[] Input, string Failure)> Failures) Campaign(FuzzTarget t, double seconds, ulong seed, int maxFailures = 10)
    {
        var rng = new Random(unchecked((int)seed ^ t.Name.GetHashCode(StringComparison.Ordinal)));
        var seeds = t.Seeds();
        string scratch = Scratch(t);
        var failures = new List<(byte[], string)>();
        long tried = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds && failures.Count < maxFailures)
        {
            byte[] input;
            if (rng.Next(20) == 0) { input = new byte[rng.Next(0, 600)]; rng.NextBytes(input); }
            else input = Mutator.Apply(seeds, rng.Next(), Mutator.Random(rng));
            tried++;
            if (Check(t, input, scratch) is { } f) failures.Add((input, f));
        }
        return (tried, failures);
    }
}
