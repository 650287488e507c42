// `nanombpo bench gemm --m M --k K --n N --threads T [--ta] [--tb]`: checks the first call's C against
// a float64 reference (sampled entries; a mismatch is an error), warms up, times repeated SGEMM
// calls and ends with one line "... GFLOP/s" (best of several timed batches, since the 2-core
// machine is shared). `--suite` instead prints one row per shape of the standard set (cubes, BERT
// and every MLP transpose variant) that bench/RESULTS.md reports. `--hugepages` puts the operands on
// transparent huge pages as numpy does for its arrays of 4 MiB and more (the OpenBLAS anchor in
// bench/anchors.py gets them that way), so large shapes can be compared on equal TLB footing.
// Tested by tests/NanoMbpo.Tests/Cpu/BenchCommandTests.cs.
using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using NanoMbpo.Cpu;

namespace NanoMbpo.Trainer.Commands;

public static class BenchCommand
{
    /// <summary>The standard shape set: (name, M, N, K, transA, transB). Mirrors bench/anchors.py.</summary>
    internal static readonly (string Name, int M, int N, int K, bool TA, bool TB)[] Suite = BuildSuite();

    static (string, int, int, int, bool, bool)[] BuildSuite()
    {
        var list = new List<(string, int, int, int, bool, bool)>();
        foreach (int n in new[] { 256, 512, 1024, 2048 }) list.Add(($"cube{n}", n, n, n, false, false));
        list.Add(("bert_qkvo", 256, 768, 768, false, false));
        list.Add(("bert_ffn1", 256, 3072, 768, false, false));
        list.Add(("bert_ffn2", 256, 768, 3072, false, false));
        // MLP 64-256-256-16 at batch 256: each distinct (M,N,K) of forward, dX and dW, in all four variants.
        foreach (var (tag, m, n, k) in new[] { ("mlp_256x256x64", 256, 256, 64), ("mlp_256x256x256", 256, 256, 256), ("mlp_256x16x256", 256, 16, 256),
                     ("mlp_256x64x256", 256, 64, 256), ("mlp_256x256x16", 256, 256, 16), ("mlp_16x256x256", 16, 256, 256), ("mlp_64x256x256", 64, 256, 256) })
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
                list.Add(($"{tag}_{(ta ? "T" : "N")}{(tb ? "T" : "N")}", m, n, k, ta, tb));
        return list.ToArray();
    }

    public static Command Create()
    {
        var bench = new Command("bench", "Quick performance measurements.");
        var m = new Option<int>("--m") { Description = "rows of C", DefaultValueFactory = _ => 1024 };
        var k = new Option<int>("--k") { Description = "inner dimension", DefaultValueFactory = _ => 1024 };
        var n = new Option<int>("--n") { Description = "columns of C", DefaultValueFactory = _ => 1024 };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var ta = new Option<bool>("--ta") { Description = "A is stored transposed (K,M)" };
        var tb = new Option<bool>("--tb") { Description = "B is stored transposed (N,K)" };
        var suite = new Option<bool>("--suite") { Description = "run the standard shape set, one row each" };
        var seconds = new Option<double>("--seconds") { Description = "timed seconds per shape", DefaultValueFactory = _ => 1.0 };
        var pack = new Option<int>("--pack") { Description = "diagnostic: 0 auto, 1 always pack A and B, -1 read in place where possible" };
        var device = new Option<string>("--device") { Description = "cpu (SIMD SGEMM) or cuda (our kernels beside cuBLAS, TFLOP/s)", DefaultValueFactory = _ => "cpu" };
        var huge = new Option<bool>("--hugepages") { Description = "operands of 4 MiB or more on transparent huge pages (madvise, Linux), as numpy allocates them" };
        var gemm = new Command("gemm", "SGEMM GFLOP/s: C(M,N) = op(A)(M,K)·op(B)(K,N).") { m, k, n, threads, ta, tb, suite, seconds, pack, device, huge };
        gemm.SetAction(r =>
        {
            string dev = r.GetValue(device)!.Trim().ToLowerInvariant();
            if (dev == "cuda") return GpuBench.Gemm(r.GetValue(m), r.GetValue(k), r.GetValue(n), Console.Out);
            if (dev != "cpu") throw new ArgumentException($"--device must be cpu or cuda for bench gemm; got '{dev}'.");
            int t = r.GetValue(threads);
            if (t < 1) throw new ArgumentOutOfRangeException("--threads", t, "--threads must be >= 1.");
            CpuThreads.Count = t;
            Sgemm.ForcePack = r.GetValue(pack);
            double secs = r.GetValue(seconds);
            bool hp = r.GetValue(huge);
            if (hp && !OperatingSystem.IsLinux()) throw new ArgumentException("--hugepages needs Linux (madvise MADV_HUGEPAGE).");
            Console.WriteLine($"kernel set: {Sgemm.ActiveIsa}, threads: {t}{(hp ? ", operands >= 4 MiB on transparent huge pages" : "")}");
            if (r.GetValue(suite))
            {
                foreach (var s in Suite)
                    Console.WriteLine($"{s.Name,-24} {s.M,5} {s.N,5} {s.K,5} {(s.TA ? 'T' : 'N')}{(s.TB ? 'T' : 'N')} {Measure(s.M, s.N, s.K, s.TA, s.TB, secs, hp, out _),8:F1} GFLOP/s");
                return 0;
            }
            int M = r.GetValue(m), N = r.GetValue(n), K = r.GetValue(k);
            if (M < 1 || N < 1 || K < 1) throw new ArgumentOutOfRangeException("--m/--n/--k", "sizes must be >= 1.");
            double g = Measure(M, N, K, r.GetValue(ta), r.GetValue(tb), secs, hp, out double refErr);
            Console.WriteLine($"result checked against a float64 reference: max error {refErr:E2} of sum |a·b| (limit {ReferenceLimit:E0})");
            Console.WriteLine($"sgemm {(r.GetValue(ta) ? 'T' : 'N')}{(r.GetValue(tb) ? 'T' : 'N')} M={M} N={N} K={K} threads={t}: {g:F1} GFLOP/s");
            return 0;
        });
        bench.Subcommands.Add(gemm);
        bench.Subcommands.Add(BenchMlpCommand.Create());
        bench.Subcommands.Add(BenchEncoderCommand.Create());
        bench.Subcommands.Add(BenchBertCommand.Create());
        bench.Subcommands.Add(BenchSacCommand.Create());
        bench.Subcommands.Add(BenchSacCommand.CreateWorldModel());
        var gpu = new Command("gpu", "Every kernel family on CUDA: GEMM beside cuBLAS (TFLOP/s), softmax and layer_norm against a device copy (GB/s), fused vs unfused attention.");
        gpu.SetAction(_ => GpuBench.RunAll(Console.Out));
        bench.Subcommands.Add(gpu);
        return bench;
    }

    /// <summary>Largest accepted |C − reference| as a fraction of Σ_k |a_ik·b_kj| (float32 rounding is
    /// ~√K·6e-8 of it; a lost block or a wrong element is orders of magnitude more).</summary>
    public const double ReferenceLimit = 1e-4;

    /// <summary>Best GFLOP/s over timed batches of calls (warm-up first). The first call's C is checked
    /// against a float64 reference (<see cref="ReferenceError"/>); a mismatch throws.</summary>
    internal static unsafe double Measure(int M, int N, int K, bool ta, bool tb, double seconds, bool hugePages, out double referenceError)
    {
        float* a = Alloc((long)M * K, hugePages), b = Alloc((long)K * N, hugePages), c = Alloc((long)M * N, hugePages);
        try
        {
            int lda = ta ? M : K, ldb = tb ? K : N;
            void Call() => Sgemm.Run(ta, tb, M, N, K, 1f, a, lda, b, ldb, 0f, c, N);
            double flops = 2.0 * M * N * K;
            Call();
            referenceError = ReferenceError(M, N, K, ta, tb, new ReadOnlySpan<float>(a, M * K), lda, new ReadOnlySpan<float>(b, K * N), ldb, new ReadOnlySpan<float>(c, M * N), N);
            if (!(referenceError <= ReferenceLimit))
                throw new InvalidOperationException($"sgemm M={M} N={N} K={K} {(ta ? 'T' : 'N')}{(tb ? 'T' : 'N')}: result differs from the float64 reference by {referenceError:E2} of sum |a·b| (limit {ReferenceLimit:E0}).");
            var sw = Stopwatch.StartNew();
            int calls = 0;
            while (sw.Elapsed.TotalSeconds < 0.2 || calls < 3) { Call(); calls++; } // warm-up (tier-up, page faults)
            int perBatch = Math.Max(1, (int)(calls / sw.Elapsed.TotalSeconds * 0.001)); // ~1 ms batches: short enough to fit between preemptions on a shared machine
            double best = double.MaxValue;
            var total = Stopwatch.StartNew();
            while (total.Elapsed.TotalSeconds < seconds)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < perBatch; i++) Call();
                best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds / perBatch);
            }
            return flops / best / 1e9;
        }
        finally { NativeMemory.AlignedFree(a); NativeMemory.AlignedFree(b); NativeMemory.AlignedFree(c); }
    }

    /// <summary>max over up to 64×64 sampled entries (every one for small C) of |c_ij − Σ_k a_ik·b_kj|
    /// (in float64) / Σ_k |a_ik·b_kj|, with A stored transposed when <paramref name="ta"/>, B when <paramref name="tb"/>.</summary>
    public static double ReferenceError(int M, int N, int K, bool ta, bool tb, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> c, int ldc)
    {
        double worst = 0;
        int si = Math.Max(1, M / 64), sj = Math.Max(1, N / 64);
        for (int i = 0; i < M; i += si)
            for (int j = 0; j < N; j += sj)
            {
                double sum = 0, abs = 0;
                for (int k = 0; k < K; k++)
                {
                    double p = (double)(ta ? a[k * lda + i] : a[i * lda + k]) * (tb ? b[j * ldb + k] : b[k * ldb + j]);
                    sum += p; abs += Math.Abs(p);
                }
                double err = Math.Abs(c[i * ldc + j] - sum) / Math.Max(abs, 1e-30);
                if (!double.IsFinite(c[i * ldc + j])) err = double.PositiveInfinity;
                worst = Math.Max(worst, err);
            }
        return worst;
    }

    static unsafe float* Alloc(long n, bool hugePages)
    {
        const nuint Huge = 2u << 20;
        nuint bytes = (nuint)(n * sizeof(float));
        bool advise = hugePages && bytes >= 4u << 20;   // numpy's threshold
        var p = (float*)NativeMemory.AlignedAlloc(bytes, advise ? Huge : 64);
        if (advise) LinuxMemory.AdviseHugePages(p, (bytes + Huge - 1) & ~(Huge - 1));
        var rng = new Random(1);
        for (long i = 0; i < n; i++) p[i] = (float)(rng.NextDouble() - 0.5);
        return p;
    }
}

/// <summary>madvise(MADV_HUGEPAGE): where transparent huge pages are in "madvise" mode, pages first
/// touched in the range come as 2 MiB pages (fewer TLB misses on large strided operands).</summary>
internal static unsafe partial class LinuxMemory
{
    const int MadvHugePage = 14;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int madvise(void* addr, nuint length, int advice);

    public static void AdviseHugePages(void* p, nuint bytes)
    {
        if (madvise(p, bytes, MadvHugePage) != 0)
            throw new InvalidOperationException($"--hugepages: madvise(MADV_HUGEPAGE) failed with errno {Marshal.GetLastPInvokeError()} (transparent huge pages disabled?).");
    }
}
