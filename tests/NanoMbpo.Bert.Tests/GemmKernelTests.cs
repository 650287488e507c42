// The inference GEMM kernels against the engine's SGEMM (C = A·Wᵀ): the small-M kernel and the
// prepacked-weight kernel, on shapes with ragged edges (M not a multiple of the row tile, N not a
// multiple of 4 or 32) and the BERT shapes.
using NanoMbpo.Bert.Cpu;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bert.Tests;

public unsafe class GemmKernelTests
{
    static (float[] A, float[] W) Operands(int m, int n, int k)
    {
        var r = new Random(m * 1000 + n * 10 + k);
        var a = new float[m * k]; var w = new float[n * k];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        for (int i = 0; i < w.Length; i++) w[i] = (float)(r.NextDouble() * 2 - 1);
        return (a, w);
    }

    static float[] Reference(float[] a, float[] w, int m, int n, int k)
    {
        var c = new float[m * n];
        Sgemm.Run(false, true, m, n, k, 1f, a, k, w, k, 0f, c, n);
        return c;
    }

    [Theory]
    [InlineData(16, 1152, 384)]
    [InlineData(7, 13, 64)]
    [InlineData(1, 5, 32)]
    [InlineData(32, 384, 1536)]
    public void SmallGemmMatchesSgemm(int m, int n, int k)
    {
        var (a, w) = Operands(m, n, k);
        var c = new float[m * n];
        fixed (float* pa = a) fixed (float* pw = w) fixed (float* pc = c) SmallGemm.Run(m, n, k, pa, pw, pc, n);
        var expected = Reference(a, w, m, n, k);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-4f * Math.Sqrt(k), $"[{i}] {c[i]} vs {expected[i]}");
    }

    [Avx512Theory]
    [InlineData(256, 1152, 384, 0)]
    [InlineData(13, 40, 16, 1)]     // ragged rows (13 = 8 + 5) and a partial panel (40 = 32 + 8)
    [InlineData(1, 384, 1536, 1)]
    [InlineData(130, 96, 64, 2)]    // two row blocks of 128
    [InlineData(9, 50, 32, 2)]
    public void PackedGemmMatchesSgemmWithItsEpilogues(int m, int n, int k, int epilogue)
    {
        var (a, w) = Operands(m, n, k);
        var r = new Random(5);
        var bias = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble()).ToArray();
        var res = Enumerable.Range(0, m * n).Select(_ => (float)r.NextDouble()).ToArray();
        var c = new float[m * n];
        using var pw = new PackedWeight(n, k);
        fixed (float* pa = a) fixed (float* pwt = w) fixed (float* pb = bias) fixed (float* pc = c) fixed (float* pr = res)
        {
            pw.Pack(pwt, pb);
            PackedGemm.Run(m, pa, pw, pc, n, epilogue == 1 ? pr : null, n, gelu: epilogue == 2);
        }
        var expected = Reference(a, w, m, n, k);
        for (int i = 0; i < c.Length; i++)
        {
            double v = expected[i] + bias[i % n];
            if (epilogue == 1) v += res[i];
            if (epilogue == 2) v = 0.5 * v * (1 + Erf.Double(v / Math.Sqrt(2)));
            Assert.True(Math.Abs(c[i] - v) <= 1e-4 * Math.Sqrt(k), $"[{i}] {c[i]} vs {v}");
        }
    }

    [Fact]
    public void WorkShareRunsEveryUnitExactlyOnceAcrossJobsAndCallers()
    {
        int saved = CpuThreads.Count;
        CpuThreads.Count = 2;
        try
        {
            void Caller()
            {
                for (int job = 0; job < 300; job++)
                {
                    int n = 1 + job % 37;
                    var hits = new int[n];
                    WorkShare.Current.For(n, 1 + job % 3, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref hits[i]); });
                    Assert.All(hits, h => Assert.Equal(1, h));
                }
            }
            var other = new Thread(Caller);
            other.Start();
            Caller();
            other.Join();
        }
        finally { CpuThreads.Count = saved; }
    }
}

/// <summary>A theory for the AVX-512 packed kernels: on a CPU without Vector512 it is skipped with that
/// reason (BertInference then runs the engine's SGEMM, covered by the parity tests), never passed silently.</summary>
public sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute()
    {
        if (!PackedGemm.Supported) Skip = "needs AVX-512 (Vector512): the packed kernels do not run on this CPU";
    }
}
