// The inference GEMM kernels against the engine's SGEMM (C = A·Wᵀ): the small-M kernel and the prepacked-weight
// kernels (32-column Vector512, 16-column Vector256; bitwise equal to each other), on shapes with ragged edges
// (M not a multiple of the row tile, N not a multiple of 4, 16 or 32) and the BERT shapes.
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
    public void PackedGemmMatchesSgemmWithItsEpilogues(int m, int n, int k, int epilogue) => CheckPacked(m, n, k, epilogue, 32);

    [NarrowTheory]
    [InlineData(256, 1152, 384, 0)]
    [InlineData(13, 40, 16, 1)]     // ragged rows (13 = 2·6 + 1) and a partial panel (40 = 2·16 + 8)
    [InlineData(1, 384, 1536, 1)]
    [InlineData(140, 96, 64, 2)]    // two row blocks of 132
    [InlineData(9, 50, 32, 2)]
    [InlineData(7, 5, 3, 2)]        // one partial panel only
    public void NarrowPackedGemmMatchesSgemmWithItsEpilogues(int m, int n, int k, int epilogue) => CheckPacked(m, n, k, epilogue, 16);

    static void CheckPacked(int m, int n, int k, int epilogue, int nr)
    {
        var (a, w) = Operands(m, n, k);
        var (bias, res, c) = Packed(a, w, m, n, k, epilogue, nr);
        var expected = Reference(a, w, m, n, k);
        for (int i = 0; i < c.Length; i++)
        {
            double v = expected[i] + bias[i % n];
            if (epilogue == 1) v += res[i];
            if (epilogue == 2) v = 0.5 * v * (1 + Erf.Double(v / Math.Sqrt(2)));
            Assert.True(Math.Abs(c[i] - v) <= 1e-4 * Math.Sqrt(k), $"[{i}] {c[i]} vs {v}");
        }
    }

    static (float[] Bias, float[] Res, float[] C) Packed(float[] a, float[] w, int m, int n, int k, int epilogue, int nr)
    {
        var r = new Random(5);
        var bias = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble()).ToArray();
        var res = Enumerable.Range(0, m * n).Select(_ => (float)r.NextDouble()).ToArray();
        var c = new float[m * n];
        using var pw = new PackedWeight(n, k, nr);
        fixed (float* pa = a) fixed (float* pwt = w) fixed (float* pb = bias) fixed (float* pc = c) fixed (float* pr = res)
        {
            pw.Pack(pwt, pb);
            PackedGemm.Run(m, pa, pw, pc, n, epilogue == 1 ? pr : null, n, gelu: epilogue == 2);
        }
        return (bias, res, c);
    }

    [Fact]
    public void APanelWidthOtherThan32Or16IsRefusedByName()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PackedWeight(8, 8, 24));
        Assert.Equal("nr", e.ParamName);
        Assert.Contains("expected 32 or 16", e.Message);
    }

    [Avx512Theory]
    [InlineData(256, 1152, 384, 0)]
    [InlineData(13, 40, 16, 1)]
    [InlineData(64, 1536, 384, 2)]
    [InlineData(9, 50, 32, 2)]
    public void NarrowAndWidePanelsGiveTheSameBits(int m, int n, int k, int epilogue)
    {
        // Both kernels run each output as one FMA chain over k in order, then the same epilogue: an AVX2 CPU's
        // encoder gives the bits an AVX-512 one gives (caches keyed by checkpoint stay valid across them).
        var (a, w) = Operands(m, n, k);
        var wide = Packed(a, w, m, n, k, epilogue, 32).C;
        var narrow = Packed(a, w, m, n, k, epilogue, 16).C;
        for (int i = 0; i < wide.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(wide[i]) == BitConverter.SingleToInt32Bits(narrow[i]), $"[{i}] wide {wide[i]:R}, narrow {narrow[i]:R}");
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
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Skip = "needs AVX-512 (Vector512): the 32-column kernel does not run on this CPU";
    }
}

/// <summary>A theory for the Vector256 packed kernel (what AVX2 CPUs run; AVX-512 CPUs run it too when asked):
/// skipped with that reason on a CPU without AVX2 + FMA, where BertInference runs the engine's SGEMM.</summary>
public sealed class NarrowTheoryAttribute : TheoryAttribute
{
    public NarrowTheoryAttribute()
    {
        if (!PackedGemm.NarrowSupported) Skip = "needs AVX2 + FMA (Vector256): the 16-column kernel does not run on this CPU";
    }
}
