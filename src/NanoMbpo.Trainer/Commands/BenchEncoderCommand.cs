// `nanombpo bench encoder --layers L --hidden H --heads NH --ffn F --batch B --seq T --threads T
// [--train] [--no-reuse] [--seconds S]`: times the BERT-shaped encoder workload of NN/EncoderStep.cs
// (forward under no-grad, or with --train forward + backward + AdamW) after a warm-up and reports
// managed bytes allocated per call (all threads, GC.GetTotalAllocatedBytes) beside the rate; the last
// line ends in "seq/s". --no-reuse runs without the TensorArena, the engine as ops were called before.
// Results: bench/RESULTS.md. Test: tests/NanoMbpo.Tests/Cpu/BenchEncoderCommandTests.cs.
using System.CommandLine;
using System.Diagnostics;
using NanoMbpo.NN;

namespace NanoMbpo.Trainer.Commands;

public static class BenchEncoderCommand
{
    public static Command Create()
    {
        Option<int> Int(string name, string desc, int def) => new(name) { Description = desc, DefaultValueFactory = _ => def };
        var layers = Int("--layers", "encoder layers", 6);
        var hidden = Int("--hidden", "model width C", 384);
        var heads = Int("--heads", "attention heads NH", 12);
        var ffn = Int("--ffn", "feed-forward width", 1536);
        var batch = Int("--batch", "sequences per call B", 8);
        var seq = Int("--seq", "tokens per sequence T", 32);
        var threads = Int("--threads", "CPU threads", Environment.ProcessorCount);
        var train = new Option<bool>("--train") { Description = "time a training step (forward, MSE, backward, AdamW) instead of inference" };
        var noReuse = new Option<bool>("--no-reuse") { Description = "allocate every op's output afresh (no TensorArena)" };
        var seconds = new Option<double>("--seconds") { Description = "timed seconds per round", DefaultValueFactory = _ => 2.0 };
        var rounds = Int("--rounds", "timed rounds; the best is reported", 3);
        var profile = new Option<bool>("--alloc-profile") { Description = "diagnostic: print which types the timed calls allocate (sampled GC events)" };
        var cmd = new Command("encoder", "BERT-shaped encoder sequences per second and managed bytes allocated per call.")
            { layers, hidden, heads, ffn, batch, seq, threads, train, noReuse, seconds, rounds, profile };
        cmd.SetAction(r =>
        {
            int L = Positive(r.GetValue(layers), "--layers"), H = Positive(r.GetValue(hidden), "--hidden"), NH = Positive(r.GetValue(heads), "--heads");
            int FF = Positive(r.GetValue(ffn), "--ffn"), B = Positive(r.GetValue(batch), "--batch"), T = Positive(r.GetValue(seq), "--seq");
            int th = Positive(r.GetValue(threads), "--threads"), rr = Positive(r.GetValue(rounds), "--rounds");
            double secs = r.GetValue(seconds);
            if (!(secs > 0)) throw new ArgumentOutOfRangeException("--seconds", secs, "--seconds must be > 0.");
            if (H % NH != 0) throw new ArgumentException($"--hidden {H} must be a multiple of --heads {NH}.");
            bool tr = r.GetValue(train), reuse = !r.GetValue(noReuse);
            using var prof = r.GetValue(profile) ? new AllocationProfile() : null;
            var m = Measure(L, H, NH, FF, B, T, th, tr, reuse, secs, rr, prof is null ? null : prof.Start);
            prof?.Print(Console.Out);
            Console.WriteLine($"allocated per call after warm-up: {m.BytesPerCall:F0} bytes; gen0/1/2 GCs while timing: {m.Gcs}; process CPU time per call {m.CpuMsPerCall:F2} ms");
            Console.WriteLine($"encoder L={L} C={H} NH={NH} FF={FF} B={B} T={T} threads={th} {(tr ? "train step (AdamW)" : "inference")}{(reuse ? "" : " no-reuse")}: " +
                              $"{m.CallsPerSecond:F1} calls/s, {m.CallsPerSecond * B:F1} seq/s");
            return 0;
        });
        return cmd;
    }

    static int Positive(int v, string name) => v >= 1 ? v : throw new ArgumentOutOfRangeException(name, v, $"{name} must be >= 1.");

    public sealed record Result(double CallsPerSecond, double BytesPerCall, string Gcs, double CpuMsPerCall);

    /// <summary>Best calls per second over <paramref name="rounds"/> rounds of about
    /// <paramref name="seconds"/> each, and the managed bytes allocated per call (every thread)
    /// over the timed calls, after a warm-up.</summary>
    public static Result Measure(int layers, int hidden, int heads, int ffn, int batch, int seq, int threads, bool train, bool reuse, double seconds, int rounds, Action? onTimingStart = null)
    {
        using var scope = Compute.With(threads: threads);   // this thread's loops only, restored on return
        var work = new EncoderStep(layers, hidden, heads, ffn, batch, seq, reuseBuffers: reuse);
        Func<double> call = train ? () => work.TrainStep() : work.Infer;
        var warm = Stopwatch.StartNew();
        int warmCalls = 0;
        while (warmCalls < 3 || (warm.Elapsed.TotalSeconds < 0.5 && warmCalls < 50)) { call(); warmCalls++; }
        double perCall = warm.Elapsed.TotalSeconds / warmCalls;
        int n = Math.Max(1, (int)(seconds / perCall));
        onTimingStart?.Invoke();
        int g0 = GC.CollectionCount(0), g1 = GC.CollectionCount(1), g2 = GC.CollectionCount(2);
        long bytes0 = GC.GetTotalAllocatedBytes(precise: true);
        var cpu0 = Environment.CpuUsage.TotalTime;
        long calls = 0;
        double best = 0;
        for (int round = 0; round < rounds; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) call();
            best = Math.Max(best, n / sw.Elapsed.TotalSeconds);
            calls += n;
        }
        double perCallBytes = (GC.GetTotalAllocatedBytes(precise: true) - bytes0) / (double)calls;
        double cpuMs = (Environment.CpuUsage.TotalTime - cpu0).TotalMilliseconds / calls;
        return new Result(best, perCallBytes, $"{GC.CollectionCount(0) - g0}/{GC.CollectionCount(1) - g1}/{GC.CollectionCount(2) - g2}", cpuMs);
    }
}
