// `nanombpo bench sac --threads T [--updates N] [--warmup W] [--rounds R]`: times the discrete-SAC
// update (src/NanoMbpo.Rl/SacBench.cs: 64-dim state, 16 actions, twin 256×256 critics and targets,
// actor, temperature, batch 256, 100k buffer) and ends with "... updates/s" (best of R timed runs,
// the protocol of bench/sac_anchor.py). Also prints process CPU seconds per update, a figure that
// survives a shared machine better than wall time. Results: bench/RESULTS.md.
using System.CommandLine;
using System.Diagnostics;
using NanoMbpo.Cpu;
using NanoMbpo.Rl;

namespace NanoMbpo.Trainer.Commands;

internal static class BenchSacCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var updates = new Option<int>("--updates") { Description = "timed updates per round", DefaultValueFactory = _ => 500 };
        var warmup = new Option<int>("--warmup") { Description = "untimed warm-up updates", DefaultValueFactory = _ => 100 };
        var rounds = new Option<int>("--rounds") { Description = "timed rounds; the best is reported", DefaultValueFactory = _ => 3 };
        var cmd = new Command("sac", "Discrete SAC updates per second (64-dim state, 16 actions, 256x256 nets, batch 256).") { threads, updates, warmup, rounds };
        cmd.SetAction(r =>
        {
            int t = r.GetValue(threads), n = r.GetValue(updates), w = r.GetValue(warmup), rr = r.GetValue(rounds);
            if (t < 1 || n < 1 || w < 0 || rr < 1) throw new ArgumentException("--threads, --updates and --rounds must be >= 1 and --warmup >= 0.");
            CpuThreads.Count = t;
            var bench = new SacBench();
            double first = bench.Step(), last = first;
            for (int i = 0; i < w; i++) bench.Step();
            double best = 0, cpuPer = double.MaxValue;
            var proc = Process.GetCurrentProcess();
            for (int round = 0; round < rr; round++)
            {
                proc.Refresh();
                var cpu0 = proc.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) last = bench.Step();
                double secs = sw.Elapsed.TotalSeconds;
                proc.Refresh();
                best = Math.Max(best, n / secs);
                cpuPer = Math.Min(cpuPer, (proc.TotalProcessorTime - cpu0).TotalSeconds / n);
            }
            Console.WriteLine($"critic loss {first:F4} -> {last:F4}; {cpuPer * 1e3:F2} ms CPU per update");
            Console.WriteLine($"sac-discrete 64x16 256x256 batch 256 threads={t}: {best:F1} updates/s");
            return 0;
        });
        return cmd;
    }

    /// <summary>`nanombpo bench world-model --threads T`: ensemble world-model training steps per second.</summary>
    public static Command CreateWorldModel()
    {
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var steps = new Option<int>("--steps") { Description = "timed steps per round", DefaultValueFactory = _ => 300 };
        var rounds = new Option<int>("--rounds") { Description = "timed rounds; the best is reported", DefaultValueFactory = _ => 3 };
        var cmd = new Command("world-model", "Probabilistic-ensemble world-model training steps per second (7 members, 4x200 SiLU, batch 256).") { threads, steps, rounds };
        cmd.SetAction(r =>
        {
            int t = r.GetValue(threads), n = r.GetValue(steps), rr = r.GetValue(rounds);
            if (t < 1 || n < 1 || rr < 1) throw new ArgumentException("--threads, --steps and --rounds must be >= 1.");
            CpuThreads.Count = t;
            var w = new WorldModelStep();
            double first = w.Step(), last = first;
            for (int i = 0; i < 50; i++) w.Step();
            double best = 0;
            for (int round = 0; round < rr; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) last = w.Step();
                best = Math.Max(best, n / sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"loss {first:F4} -> {last:F4}");
            Console.WriteLine($"world-model 7x(4x200) batch 256 threads={t}: {best:F1} steps/s");
            return 0;
        });
        return cmd;
    }
}
