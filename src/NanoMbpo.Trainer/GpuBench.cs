// GPU benchmarks of the ILGPU kernels on CUDA, each family against an in-process anchor: SGEMM (ours
// fp32, ours TF32) against cuBLAS fp32 and TF32 on the same buffers; softmax and layer_norm in GB/s
// against a device-to-device copy of the same bytes; fused attention against the unfused
// matmul-softmax-matmul path. Library-style entry points for `nanombpo bench gemm --device cuda`:
// RunAll(writer) and Gemm(m, k, n, writer). Without CUDA they print one line and return NoCudaExitCode.
// Timing: warm-up, then the median over samples of back-to-back launches closed by Synchronize.
// Tested (no-CUDA path) by tests/NanoMbpo.Tests/Kernels/GpuBenchTests.cs; results: bench/RESULTS.md.
using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NanoMbpo.Kernels;

namespace NanoMbpo.Trainer;

/// <summary>Warm-up launches, timed samples (median reported) and the least time one sample should
/// take (launches per sample are chosen to reach it, so short kernels are not timer-bound).</summary>
public sealed record GpuBenchOptions(int Warmup = 3, int Samples = 7, double MinSampleMs = 25);

public static class GpuBench
{
    /// <summary>Exit code when no CUDA device or driver is present (nothing measured).</summary>
    public const int NoCudaExitCode = 3;
    /// <summary>Exit code when a benchmark failed (launch error, out of memory, wrong result).</summary>
    public const int FailureExitCode = 1;

    public static readonly (int M, int K, int N, bool TransA, bool TransB, string Name)[] GemmShapes =
    [
        (1024, 1024, 1024, false, false, "1024³"), (2048, 2048, 2048, false, false, "2048³"),
        (4096, 4096, 4096, false, false, "4096³"),
        // Every transpose variant at the cube (TN: weight gradients Aᵀ dC; NT: y = x Wᵀ).
        (4096, 4096, 4096, false, true, "4096³"), (4096, 4096, 4096, true, false, "4096³"), (4096, 4096, 4096, true, true, "4096³"),
        // BERT-base at B·T = 8·512 tokens, weights (out,in) as nn.Linear stores them: y = x Wᵀ.
        (4096, 768, 2304, false, true, "bert qkv"), (4096, 768, 768, false, true, "bert proj"),
        (4096, 768, 3072, false, true, "bert ffn1"), (4096, 3072, 768, false, true, "bert ffn2"),
    ];

    /// <summary>Every family: GEMM, softmax, layer_norm, attention. Returns 0, NoCudaExitCode or FailureExitCode.</summary>
    public static int RunAll(TextWriter w, GpuBenchOptions? options = null) =>
        Run(w, options, OpenCuda, s =>
        {
            GemmFamily(s, GemmShapes);
            SoftmaxFamily(s);
            LayerNormFamily(s);
            AttentionFamily(s);
        });

    /// <summary>One SGEMM C (M,N) = A (M,K) B (K,N): our fp32 and TF32 kernels beside cuBLAS.</summary>
    public static int Gemm(int m, int k, int n, TextWriter w, GpuBenchOptions? options = null)
    {
        if (m <= 0 || k <= 0 || n <= 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"gemm sizes must be positive, got M={m} K={k} N={n}");
        return Run(w, options, OpenCuda, s => GemmFamily(s, [(m, k, n, false, false, $"{m}x{k}x{n}")]));
    }

    /// <summary>Opens the CUDA accelerator, runs <paramref name="body"/>, maps failures to exit codes.
    /// <paramref name="open"/> returns null (or throws) when there is no CUDA device.</summary>
    public static int Run(TextWriter w, GpuBenchOptions? options, Func<(Context, Accelerator)?> open, Action<BenchSession> body)
    {
        (Context, Accelerator)? cuda;
        string why = "no CUDA device found";
        try { cuda = open(); }
        catch (Exception e) { cuda = null; why = $"CUDA driver unavailable ({e.GetType().Name}: {e.Message})"; }
        if (cuda is not { } c)
        {
            w.WriteLine($"gpu bench skipped: {why}; these benchmarks need an NVIDIA GPU with a CUDA driver (nothing was measured).");
            return NoCudaExitCode;
        }
        using var session = new BenchSession(c.Item1, c.Item2, w, options ?? new GpuBenchOptions());
        w.WriteLine($"device: {c.Item2.Name} ({c.Item2.AcceleratorType}), {c.Item2.MemorySize / (1 << 20)} MiB, " +
            $"median of {session.Options.Samples} samples after {session.Options.Warmup} warm-up launches");
        body(session);
        w.WriteLine(session.Failures == 0 ? "gpu bench: all measurements completed" : $"gpu bench: {session.Failures} measurement(s) failed");
        return session.Failures == 0 ? 0 : FailureExitCode;
    }

    static (Context, Accelerator)? OpenCuda()
    {
        var context = Context.Create(b => b.Cuda().EnableAlgorithms());
        if (context.GetCudaDevices().Count == 0) { context.Dispose(); return null; }
        return (context, context.CreateCudaAccelerator(0));
    }

    // ---------------------------------------------------------------- GEMM

    static void GemmFamily(BenchSession s, IEnumerable<(int M, int K, int N, bool TransA, bool TransB, string Name)> shapes)
    {
        s.W.WriteLine();
        s.W.WriteLine("SGEMM TFLOP/s (row-major; NT = B stored (N,K), TN = A stored (K,M)); err = max|C - C_cuBLAS fp32| / max|C_cuBLAS fp32|");
        s.W.WriteLine($"{"shape",-11} {"ours fp32",10} {"cuBLAS fp32",12} {"ratio",6} {"ours tf32",10} {"cuBLAS tf32",12} {"ratio",6} {"err fp32",9} {"err tf32",9}");
        string? summary = null;
        foreach (var (m, k, n, ta, tb, name) in shapes)
        {
            string variant = (ta ? "T" : "N") + (tb ? "T" : "N");
            string what = $"gemm {name} M={m} K={k} N={n} {variant}";
            s.Guard(what, () =>
            {
                using var a = s.Random((long)m * k, 1); using var b = s.Random((long)k * n, 2);
                using var c = s.Acc.Allocate1D<float>((long)m * n); using var cRef = s.Acc.Allocate1D<float>((long)m * n);
                double flops = 2.0 * m * n * k;
                s.Blas.AllowTf32(false);
                double tBlas = s.TimeMs(() => s.Blas.Sgemm(cRef.View, a.View, b.View, m, n, k, transA: ta, transB: tb));
                var reference = cRef.GetAsArray1D();
                double tOurs = s.TimeMs(() => s.Kl.Sgemm(c.View, a.View, b.View, m, n, k, transA: ta, transB: tb));
                double eOurs = RelMaxDiff(c.GetAsArray1D(), reference);
                double tOursTf32 = s.TimeMs(() => s.Kl.SgemmTf32(c.View, a.View, b.View, m, n, k, transA: ta, transB: tb));
                double eTf32 = RelMaxDiff(c.GetAsArray1D(), reference);
                s.Blas.AllowTf32(true);
                double tBlasTf32 = s.TimeMs(() => s.Blas.Sgemm(c.View, a.View, b.View, m, n, k, transA: ta, transB: tb));
                s.Blas.AllowTf32(false);
                double f(double ms) => flops / (ms * 1e-3) / 1e12;
                s.W.WriteLine($"{name + (variant == "NN" ? "" : " " + variant),-11} {f(tOurs),10:F1} {f(tBlas),12:F1} {tBlas / tOurs,6:F2} {f(tOursTf32),10:F1} " +
                    $"{f(tBlasTf32),12:F1} {tBlasTf32 / tOursTf32,6:F2} {eOurs,9:E1} {eTf32,9:E1}");
                // fp32 must match cuBLAS to float accumulation error; TF32 to its 10-bit mantissa.
                s.Expect(eOurs <= 1e-4, what, $"fp32 result differs from cuBLAS by {eOurs:E2}");
                s.Expect(eTf32 <= 1e-2, what, $"TF32 result differs from cuBLAS fp32 by {eTf32:E2}");
                if (summary is null || (m == 4096 && n == 4096 && k == 4096 && variant == "NN"))
                    summary = $"gemm summary ({name}): ours fp32 {f(tOurs):F1} TFLOP/s = {tBlas / tOurs:F2}x cuBLAS fp32 {f(tBlas):F1}; " +
                        $"ours TF32 {f(tOursTf32):F1} TFLOP/s = {tBlasTf32 / tOursTf32:F2}x cuBLAS TF32 {f(tBlasTf32):F1}";
            });
        }
        if (summary is not null) s.W.WriteLine(summary);
    }

    /// <summary>max |x - r| / max |r|: one number that flags a wrong kernel without tripping on
    /// entries near zero.</summary>
    public static double RelMaxDiff(float[] x, float[] r)
    {
        double diff = 0, scale = 0;
        for (int i = 0; i < r.Length; i++)
        {
            double d = Math.Abs((double)x[i] - r[i]);
            diff = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(diff, d);
            scale = Math.Max(scale, Math.Abs((double)r[i]));
        }
        return diff / Math.Max(scale, 1e-30);
    }

    // ---------------------------------------------------------------- softmax, layer_norm

    /// <summary>Device-to-device copy of <paramref name="floats"/> floats: reads and writes the bytes once.</summary>
    static double CopyGbs(BenchSession s, long floats)
    {
        using var src = s.Random(floats, 9); using var dst = s.Acc.Allocate1D<float>(floats);
        double ms = s.TimeMs(() => src.View.CopyTo(dst.View));
        return 2.0 * floats * sizeof(float) / (ms * 1e-3) / 1e9;
    }

    /// <summary>Which row kernel the launcher picks (register rows by layout and slots, or the group loop).</summary>
    static string PlanOf(BenchSession s, int rows, int cols, params ArrayView<float>[] views) =>
        s.Kl.PlanRows(rows, cols, views)?.Describe() ?? "group loop";

    static void SoftmaxFamily(BenchSession s)
    {
        s.W.WriteLine();
        s.W.WriteLine("softmax over the last axis, attention-score shapes (B=8, NH=12): GB/s = (read + write) / time; " +
            "log_softmax likewise; backward reads y and dy, writes dx");
        s.W.WriteLine($"{"rows x cols",-16} {"softmax GB/s",13} {"copy GB/s",10} {"of copy",8} {"log_sm GB/s",12} {"bwd GB/s",9}  plan");
        string summary = "softmax summary:";
        foreach (int t in new[] { 128, 256, 512 })
        {
            int rows = 8 * 12 * t, cols = t;
            long n = (long)rows * cols;
            s.Guard($"softmax rows={rows} cols={cols}", () =>
            {
                using var x = s.Random(n, 3); using var y = s.Acc.Allocate1D<float>(n);
                using var dy = s.Random(n, 7); using var dx = s.Acc.Allocate1D<float>(n);
                double ms = s.TimeMs(() => s.Kl.Softmax(y.View, x.View, rows, cols));
                double gbs = 2.0 * n * sizeof(float) / (ms * 1e-3) / 1e9, copy = CopyGbs(s, n);
                double bwd = 3.0 * n * sizeof(float) / (s.TimeMs(() => s.Kl.SoftmaxBackward(dx.View, dy.View, y.View, rows, cols)) * 1e-3) / 1e9;
                double logGbs = 2.0 * n * sizeof(float) / (s.TimeMs(() => s.Kl.LogSoftmax(y.View, x.View, rows, cols)) * 1e-3) / 1e9;
                s.W.WriteLine($"{$"{rows} x {cols}",-16} {gbs,13:F0} {copy,10:F0} {gbs / copy,8:P0} {logGbs,12:F0} {bwd,9:F0}  {PlanOf(s, rows, cols, y.View, x.View)}");
                summary += $" T={t} {gbs / copy:P0} of copy;";
            });
        }
        s.W.WriteLine(summary + " (goal >= 70%)");
    }

    static void LayerNormFamily(BenchSession s)
    {
        s.W.WriteLine();
        s.W.WriteLine("layer_norm forward (eps 1e-5): GB/s = (read x + write y, mean, rstd) / time; " +
            "backward (dx, dweight, dbias) counts reading dy and x and writing dx");
        s.W.WriteLine($"{"rows x cols",-16} {"layer_norm GB/s",16} {"copy GB/s",10} {"of copy",8} {"bwd GB/s",9}  plan");
        string summary = "layer_norm summary:";
        foreach (var (rows, cols) in new[] { (32768, 768), (8192, 3072) })
        {
            long n = (long)rows * cols;
            s.Guard($"layer_norm rows={rows} cols={cols}", () =>
            {
                using var x = s.Random(n, 4); using var y = s.Acc.Allocate1D<float>(n);
                using var w = s.Random(cols, 5); using var b = s.Random(cols, 6);
                using var mean = s.Acc.Allocate1D<float>(rows); using var rstd = s.Acc.Allocate1D<float>(rows);
                using var dw = s.Acc.Allocate1D<float>(cols); using var db = s.Acc.Allocate1D<float>(cols);
                double ms = s.TimeMs(() => s.Kl.LayerNorm(y.View, mean.View, rstd.View, x.View, w.View, b.View, rows, cols));
                double bytes = (2.0 * n + 2.0 * rows + 2.0 * cols) * sizeof(float);
                double gbs = bytes / (ms * 1e-3) / 1e9, copy = CopyGbs(s, n);
                // y serves as dy: values do not matter for timing, and dx gets its own buffer.
                using var dx = s.Acc.Allocate1D<float>(n);
                double bwd = 3.0 * n * sizeof(float) / (s.TimeMs(() => s.Kl.LayerNormBackward(dx.View, dw.View, db.View,
                    y.View, x.View, w.View, mean.View, rstd.View, rows, cols)) * 1e-3) / 1e9;
                s.W.WriteLine($"{$"{rows} x {cols}",-16} {gbs,16:F0} {copy,10:F0} {gbs / copy,8:P0} {bwd,9:F0}  {PlanOf(s, rows, cols, y.View, x.View, w.View, b.View)}");
                summary += $" {rows}x{cols} {gbs / copy:P0} of copy;";
            });
        }
        s.W.WriteLine(summary + " (goal >= 70%)");
    }

    // ---------------------------------------------------------------- attention

    static void AttentionFamily(BenchSession s)
    {
        const int B = 8, NH = 12, HS = 64;
        s.W.WriteLine();
        s.W.WriteLine($"attention forward B={B} NH={NH} HS={HS}, no mask: fused (online softmax) vs unfused " +
            "(batched SGEMM q kᵀ, softmax, SGEMM p v); err = max|o_fused - o_unfused| / max|o_unfused|; " +
            "bwd = fused backward (dq, dk, dv), TFLOP/s counted as 10 B NH T² HS; fused = the launcher's flash variant, " +
            "rows32/rows64 ms = each variant forced");
        s.W.WriteLine($"{"T",5} {"fused ms",9} {"unfused ms",11} {"speedup",8} {"fused TFLOP/s",14} {"err",9} {"bwd ms",8} {"bwd TFLOP/s",12} {"rows32 ms",10} {"rows64 ms",10}");
        string summary = "attention summary:";
        foreach (int t in new[] { 128, 256, 512 })
        {
            s.Guard($"attention B={B} NH={NH} T={t} HS={HS}", () =>
            {
                long qkv = (long)B * NH * t * HS;
                using var q = s.Random(qkv, 7); using var k = s.Random(qkv, 8); using var v = s.Random(qkv, 10);
                using var o = s.Acc.Allocate1D<float>(qkv); using var o2 = s.Acc.Allocate1D<float>(qkv);
                using var lse = s.Acc.Allocate1D<float>((long)B * NH * t);
                using var scores = s.Acc.Allocate1D<float>((long)B * NH * t * t);
                using var probs = s.Acc.Allocate1D<float>((long)B * NH * t * t);
                var g = AttentionArgs.Contiguous(B, NH, t, HS);
                double fused = s.TimeMs(() => s.Kl.AttentionForward(o.View, lse.View, q.View, k.View, v.View, default, g));
                double unfused = s.TimeMs(() =>
                {
                    s.Kl.Sgemm(scores.View, q.View, k.View, t, t, HS, transB: true, alpha: g.Scale, batch: B * NH,
                        strideA: (long)t * HS, strideB: (long)t * HS, strideC: (long)t * t);
                    s.Kl.Softmax(probs.View, scores.View, B * NH * t, t);
                    s.Kl.Sgemm(o2.View, probs.View, v.View, t, HS, t, batch: B * NH,
                        strideA: (long)t * t, strideB: (long)t * HS, strideC: (long)t * HS);
                });
                double err = RelMaxDiff(o.GetAsArray1D(), o2.GetAsArray1D());
                double tflops = 4.0 * B * NH * t * t * HS / (fused * 1e-3) / 1e12;
                // Backward with dO = o2 (any values do): dq, dk, dv are thirds of one buffer.
                using var dqkv = s.Acc.Allocate1D<float>(3 * qkv);
                using var dsum = s.Acc.Allocate1D<float>((long)B * NH * t);
                var dqv = dqkv.View;
                double bwd = s.TimeMs(() => s.Kl.AttentionBackward(dqv.SubView(0, qkv), dqv.SubView(qkv, qkv),
                    dqv.SubView(2 * qkv, qkv), dsum.View, o2.View, q.View, k.View, v.View, o.View, lse.View, default, g));
                double bwdTflops = 10.0 * B * NH * t * t * HS / (bwd * 1e-3) / 1e12;
                double rows32 = s.TimeMs(() => s.Kl.AttentionForward(o.View, lse.View, q.View, k.View, v.View, default, g, null, 32));
                double rows64 = s.TimeMs(() => s.Kl.AttentionForward(o.View, lse.View, q.View, k.View, v.View, default, g, null, 64));
                s.W.WriteLine($"{t,5} {fused,9:F3} {unfused,11:F3} {unfused / fused,8:F2} {tflops,14:F1} {err,9:E1} {bwd,8:F3} {bwdTflops,12:F1} {rows32,10:F3} {rows64,10:F3}");
                s.Expect(err <= 1e-4, $"attention T={t}", $"fused and unfused outputs differ by {err:E2}");
                summary += $" T={t} fused {unfused / fused:F2}x faster;";
            });
        }
        s.W.WriteLine(summary + " (goal > 1x at T = 128..512)");
    }
}

/// <summary>One CUDA accelerator with its launcher and cuBLAS handle, the output writer, the timing
/// helper and the failure count of a benchmark run.</summary>
public sealed class BenchSession : IDisposable
{
    readonly Context context;

    internal BenchSession(Context context, Accelerator acc, TextWriter w, GpuBenchOptions options)
    {
        this.context = context;
        Acc = acc; W = w; Options = options;
        Kl = KernelLauncher.For(acc);
        Blas = new CuBlasAnchor(acc);
    }

    public Accelerator Acc { get; }
    public KernelLauncher Kl { get; }
    public CuBlasAnchor Blas { get; }
    public TextWriter W { get; }
    public GpuBenchOptions Options { get; }
    public int Failures { get; private set; }

    /// <summary>Median milliseconds of one call of <paramref name="launch"/> (asynchronous launches,
    /// closed by Synchronize). Launches per sample grow until a sample lasts MinSampleMs.</summary>
    public double TimeMs(Action launch)
    {
        for (int i = 0; i < Options.Warmup; i++) launch();
        Acc.Synchronize();
        var sw = Stopwatch.StartNew();
        launch();
        Acc.Synchronize();
        double once = Math.Max(sw.Elapsed.TotalMilliseconds, 1e-3);
        int reps = (int)Math.Clamp(Math.Ceiling(Options.MinSampleMs / once), 1, 1000);
        var times = new double[Options.Samples];
        for (int s = 0; s < times.Length; s++)
        {
            sw.Restart();
            for (int r = 0; r < reps; r++) launch();
            Acc.Synchronize();
            times[s] = sw.Elapsed.TotalMilliseconds / reps;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>A buffer of U[-1, 1) floats from the kernel RNG (seeded, so runs are comparable).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Random(long n, ulong seed)
    {
        var buf = Acc.Allocate1D<float>(n);
        Kl.RandomUniform(buf.View, seed, 0, -1f, 1f);
        return buf;
    }

    /// <summary>Runs one measurement; a launch error or out-of-memory prints one line naming it and
    /// counts as a failure instead of ending the run.</summary>
    public void Guard(string what, Action body)
    {
        try { body(); }
        catch (Exception e) when (e is AcceleratorException or OutOfMemoryException or ArgumentException or InvalidOperationException)
        {
            Failures++;
            W.WriteLine($"FAILED {what}: {e.GetType().Name}: {e.Message}");
            try { Acc.Synchronize(); } catch (Exception) { /* the context may be unusable; later rows will say so */ }
        }
    }

    public void Expect(bool ok, string what, string message)
    {
        if (ok) return;
        Failures++;
        W.WriteLine($"FAILED {what}: {message}");
    }

    public void Dispose()
    {
        Blas.Dispose();
        Acc.Dispose();
        context.Dispose();
    }
}
