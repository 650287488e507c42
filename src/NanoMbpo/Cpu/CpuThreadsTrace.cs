// CpuThreadsTrace: with NANOMBPO_TRACE_THREADS=1 every parallel region of CpuThreads records, per job
// name, its wall time, how long the caller and the workers sat idle waiting for the slowest chunk, and
// how many chunks the caller ran because no worker had started them (a preempted or sleeping worker);
// the table goes to stderr when the process exits, largest idle first. It finds load imbalance and
// cross-core data movement on a new CPU: `NANOMBPO_TRACE_THREADS=1 nanombpo bench mlp --threads 2`.
// Off (the default) it costs one static bool test per region. Test: tests/NanoMbpo.Tests/Cpu/CpuThreadsTests.cs.
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace NanoMbpo.Cpu;

internal static class CpuThreadsTrace
{
    public const string Variable = "NANOMBPO_TRACE_THREADS";
    internal static volatile bool Enabled = Environment.GetEnvironmentVariable(Variable) == "1";
    static readonly Dictionary<string, Entry> Entries = new();
    static readonly object Gate = new();
    static bool _hooked;

    sealed class Entry { public long Calls; public long Wall, CallerIdle, WorkerIdle, Stolen; }

    /// <summary>One region: started at <paramref name="start"/>, the caller out of chunks to claim at
    /// <paramref name="callerDone"/>, the chunks workers ran done at <paramref name="workerDone"/>
    /// (timestamps); <paramref name="stolen"/> chunks the caller ran because no worker had started them.</summary>
    internal static void Record(string name, long start, long callerDone, ReadOnlySpan<long> workerDone, int stolen = 0)
    {
        long last = callerDone, workerIdle = 0;
        foreach (long t in workerDone) last = Math.Max(last, t);
        foreach (long t in workerDone) workerIdle += last - t;
        lock (Gate)
        {
            if (!Entries.TryGetValue(name, out var e)) Entries[name] = e = new Entry();
            e.Calls++; e.Stolen += stolen; e.Wall += last - start; e.CallerIdle += last - callerDone; e.WorkerIdle += workerIdle;
            if (!_hooked) { _hooked = true; AppDomain.CurrentDomain.ProcessExit += (_, _) => Console.Error.Write(Report()); }
        }
    }

    /// <summary>The table so far: calls, mean wall, mean caller idle and mean worker idle (µs), and mean
    /// chunks the caller took over from a worker that had not started, per job name.</summary>
    internal static string Report()
    {
        var sb = new StringBuilder();
        double us = 1e6 / Stopwatch.Frequency;
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"parallel region (CpuThreads)",-60} {"calls",9} {"wall µs",9} {"caller idle",12} {"worker idle",12} {"stolen",7}");
        lock (Gate)
            foreach (var (name, e) in Entries.OrderByDescending(kv => kv.Value.CallerIdle + kv.Value.WorkerIdle))
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"{name,-60} {e.Calls,9} {e.Wall * us / e.Calls,9:F1} {e.CallerIdle * us / e.Calls,12:F1} {e.WorkerIdle * us / e.Calls,12:F1} {(double)e.Stolen / e.Calls,7:F2}");
        return sb.ToString();
    }
}
