// `nanombpo bench mlp --threads T [--steps N] [--warmup W]`: times the MLP training step
// (64-256-256-16 ReLU, batch 256, forward + MSE + backward + Adam; see NN/MlpTrainStep.cs) after a
// warm-up and ends with the line "... steps/s": the best of --rounds timed runs of --steps steps, the
// same protocol as the PyTorch anchor bench/mlp_anchor.py (best of 3 runs of 2000 steps). Activation
// buffers are reused across steps (TensorArena) unless --no-reuse. Side-by-side: bench/RESULTS.md.
// The subcommand hangs under `nanombpo bench` (BenchCommand.cs adds it).
using System.CommandLine;
using System.Diagnostics;
using NanoMbpo.NN;

namespace NanoMbpo.Trainer.Commands;

public static class BenchMlpCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 2000 };
        var warmup = new Option<int>("--warmup") { Description = "untimed warm-up steps", DefaultValueFactory = _ => 300 };
        var rounds = new Option<int>("--rounds") { Description = "timed runs; the best is reported", DefaultValueFactory = _ => 3 };
        var noReuse = new Option<bool>("--no-reuse") { Description = "allocate fresh activation buffers every step (no TensorArena)" };
        var cmd = new Command("mlp", "MLP 64-256-256-16 training steps per second (batch 256, Adam).") { threads, steps, warmup, rounds, noReuse };
        cmd.SetAction(r =>
        {
            var (t, n, w) = (r.GetValue(threads), r.GetValue(steps), r.GetValue(warmup));
            if (t < 1) throw new ArgumentOutOfRangeException("--threads", t, "--threads must be >= 1.");
            if (n < 1 || w < 0) throw new ArgumentOutOfRangeException("--steps", n, "--steps must be >= 1 and --warmup >= 0.");
            int rr = r.GetValue(rounds);
            if (rr < 1) throw new ArgumentOutOfRangeException("--rounds", rr, "--rounds must be >= 1.");
            bool reuse = !r.GetValue(noReuse);
            var (rate, first, last, gcs) = Measure(t, n, w, reuse, rr);
            Console.WriteLine($"loss {first:F4} -> {last:F4}, gen0/1/2 GCs during timing: {gcs}");
            Console.WriteLine($"mlp 64-256-256-16 batch 256 adam threads={t}{(reuse ? "" : " no-reuse")}: {rate:F1} steps/s");
            return 0;
        });
        return cmd;
    }

    /// <summary>Best steps per second of <paramref name="rounds"/> runs of <paramref name="steps"/> timed steps,
    /// after <paramref name="warmup"/> untimed ones.</summary>
    public static (double StepsPerSecond, float FirstLoss, float LastLoss, string Gcs) Measure(int threads, int steps, int warmup, bool reuseBuffers = true, int rounds = 1)
    {
        using var scope = Compute.With(threads: threads);   // this thread's loops only, restored on return
        var work = new MlpTrainStep(reuseBuffers: reuseBuffers);
        float first = work.Step();
        for (int i = 0; i < warmup; i++) work.Step();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        float last = 0;
        double best = 0;
        for (int round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) last = work.Step();
            best = Math.Max(best, steps / sw.Elapsed.TotalSeconds);
        }
        string gcs = $"{GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}";
        return (best, first, last, gcs);
    }
}
