// Tests for NanoMbpo.Cpu.Sgemm: every transpose variant x odd sizes x alpha/beta against a
// double-accumulating reference, on every kernel set (AVX-512 and AVX2 run in software where the
// CPU lacks them) and both the packed and in-place paths; determinism; thread-count agreement;
// argument validation. Run: dotnet test -c Release --filter "FullyQualifiedName~Cpu"
using NanoMbpo.Cpu;
using Xunit;

namespace NanoMbpo.Tests.Cpu;

public unsafe class SgemmTests
{
    static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (7, 17, 33), (17, 7, 65), (33, 65, 7), (65, 33, 130), (130, 17, 65), (8, 16, 17), (1, 130, 33), (130, 1, 7), (16, 16, 256), (33, 16, 300), (16, 70, 40), (20, 33, 9),
    ];

    internal static float[] Random(int n, int seed)
    {
        var r = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(r.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Checks C against a float64 reference with a tolerance that grows with K.</summary>
    internal static void CheckAgainstReference(bool ta, bool tb, int M, int N, int K, float alpha, float beta,
        float[] a, int lda, float[] b, int ldb, float[] c0, float[] c, int ldc)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                double s = 0, mag = 0;
                for (int k = 0; k < K; k++)
                {
                    double x = ta ? a[k * lda + i] : a[i * lda + k];
                    double y = tb ? b[j * ldb + k] : b[k * ldb + j];
                    s += x * y; mag += Math.Abs(x * y);
                }
                double cOld = beta == 0 ? 0 : c0[i * ldc + j];
                double want = alpha * s + beta * cOld;
                double tol = 1e-6 + 4e-7 * (K + 2) * (Math.Abs(alpha) * mag + Math.Abs(beta * cOld));
                double got = c[i * ldc + j];
                Assert.True(Math.Abs(got - want) <= tol,
                    $"ta={ta} tb={tb} M={M} N={N} K={K} alpha={alpha} beta={beta}: C[{i},{j}]={got}, want {want} (tol {tol:g3})");
            }
    }

    static void RunCase(SgemmIsa isa, int forcePack, bool ta, bool tb, int M, int N, int K, float alpha, float beta, int pad, int threads)
    {
        int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
        var a = Random((ta ? K : M) * lda, 1 + M);
        var b = Random((tb ? N : K) * ldb, 2 + N);
        var c0 = Random(M * ldc, 3 + K);
        if (beta == 0f) Array.Fill(c0, float.NaN); // beta = 0 must overwrite, never read
        var c = (float[])c0.Clone();
        Sgemm.ForceIsa = isa; Sgemm.ForcePack = forcePack;
        try
        {
            fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                Sgemm.RunCore(ta, tb, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc, threads);
        }
        finally { Sgemm.ForceIsa = SgemmIsa.Auto; Sgemm.ForcePack = 0; }
        CheckAgainstReference(ta, tb, M, N, K, alpha, beta, a, lda, b, ldb, c0, c, ldc);
        for (int i = 0; i < M; i++) // padding columns of C are untouched
            for (int j = N; j < ldc; j++) Assert.Equal(c0[i * ldc + j], c[i * ldc + j]);
    }

    public static IEnumerable<object[]> Variants()
    {
        foreach (var isa in new[] { "Auto", "Avx512", "Avx2", "Scalar" })
            foreach (int pack in new[] { -1, 1 })
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        yield return [isa, pack, ta, tb];
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void MatchesReference(string isa, int forcePack, bool ta, bool tb)
    {
        int n = 0;
        foreach (var (M, N, K) in Shapes)
        {
            var (alpha, beta) = (n++ % 3) switch { 0 => (1f, 0f), 1 => (0.5f, 1f), _ => (-1.5f, 0.25f) };
            RunCase(Enum.Parse<SgemmIsa>(isa), forcePack, ta, tb, M, N, K, alpha, beta, pad: n % 2 * 3, threads: 1 + n % 2);
        }
    }

    [Fact]
    public void BlockingOverride_ParsesAndNamesTheVariableOnBadInput()
    {
        Assert.Null(SgemmTuning.Parse(null));
        Assert.Equal((96, 128, 512), SgemmTuning.Parse("96,128,512"));
        foreach (var bad in new[] { "96,128", "96,128,500", "1000,128,512", "a,b,c", "96,1024,512" })
        {
            var e = Assert.Throws<ArgumentException>(() => SgemmTuning.Parse(bad));
            Assert.Contains(SgemmTuning.Variable, e.Message);
            Assert.Contains("MC,KC,NC", e.Message);
        }
    }

    /// <summary>Every tiny shape (M, N ≤ 9, K ≤ 6): the MLP/attention weight-gradient GEMMs of the
    /// catalog's module cases live here, below one micro-tile, where edge handling decides everything.</summary>
    [Theory]
    [InlineData("Avx512")]
    [InlineData("Avx2")]
    [InlineData("Auto")]
    public void TinyShapeSweep(string isa)
    {
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        foreach (int pack in new[] { 0, -1, 1 })
        for (int m = 1; m <= 9; m++)
        for (int n = 1; n <= 9; n++)
        for (int k = 1; k <= 6; k++)
            RunCase(Enum.Parse<SgemmIsa>(isa), pack, ta, tb, m, n, k, 1f, (m + n + k) % 2, pad: 0, threads: 1 + (m + k) % 2);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void LargerShapesWithKBlockingAndThreads(bool ta, bool tb)
    {
        // K > KC exercises the beta=1 accumulation of later K blocks; M, N > MC/NR the edge tiles.
        RunCase(SgemmIsa.Auto, 0, ta, tb, 203, 97, 600, 0.75f, 0.5f, pad: 1, threads: 2);
        RunCase(SgemmIsa.Auto, 0, ta, tb, 97, 1100, 70, 1f, 0f, pad: 0, threads: 2);
    }

    [Theory]
    [InlineData(256, 256, 256, false, false)]
    [InlineData(256, 16, 256, true, false)]
    [InlineData(256, 16, 256, false, true)]
    [InlineData(301, 517, 290, true, true)]
    [InlineData(16, 256, 256, false, true)] // swapped: Cᵀ = Bᵀ·Aᵀ
    [InlineData(64, 256, 256, true, true)]
    public void ThreadCountsAgreeBitwiseAndRepeat(int M, int N, int K, bool ta, bool tb)
    {
        int lda = ta ? M : K, ldb = tb ? K : N;
        var a = Random(M * K, 7); var b = Random(K * N, 8);
        float[] Run(int threads)
        {
            var c = new float[M * N];
            fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
                Sgemm.RunCore(ta, tb, M, N, K, 1f, pa, lda, pb, ldb, 0f, pc, N, threads);
            return c;
        }
        var one = Run(1); var two = Run(2);
        Assert.Equal(one, two);
        Assert.Equal(two, Run(2));
        Assert.Equal(one, Run(1));
    }

    [Fact]
    public void SpanOverloadComputesAndValidates()
    {
        var a = Random(6, 1); var b = Random(12, 2); var c = new float[8];
        Sgemm.Run(false, false, 2, 4, 3, 1f, a, 3, b, 4, 0f, c, 4);
        CheckAgainstReference(false, false, 2, 4, 3, 1f, 0f, a, 3, b, 4, c, c, 4);

        Assert.Equal("A", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, 2, 4, 3, 1f, a.AsSpan(1), 3, b, 4, 0f, c, 4)).ParamName);
        Assert.Equal("B", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, 2, 4, 3, 1f, a, 3, b.AsSpan(0, 11), 4, 0f, c, 4)).ParamName);
        Assert.Equal("C", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, 2, 4, 3, 1f, a, 3, b, 4, 0f, c.AsSpan(0, 7), 4)).ParamName);
        Assert.Equal("lda", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, 2, 4, 3, 1f, a, 2, b, 4, 0f, c, 4)).ParamName);
        Assert.Equal("ldb", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, true, 2, 4, 3, 1f, a, 3, b, 2, 0f, c, 4)).ParamName);
        Assert.Equal("ldc", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, 2, 4, 3, 1f, a, 3, b, 4, 0f, c, 3)).ParamName);
        Assert.Equal("M", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, -1, 4, 3, 1f, a, 3, b, 4, 0f, c, 4)).ParamName);
        Assert.Equal("K", Assert.ThrowsAny<ArgumentException>(() => Sgemm.Run(false, false, 2, 4, -3, 1f, a, 3, b, 4, 0f, c, 4)).ParamName);
    }

    [Fact]
    public void ZeroKOrZeroAlphaScalesC()
    {
        var c = new[] { 1f, float.NaN, 3f, 4f };
        Sgemm.Run(false, false, 2, 2, 0, 1f, ReadOnlySpan<float>.Empty, 1, ReadOnlySpan<float>.Empty, 2, 0f, c, 2);
        Assert.Equal(new float[4], c);
        var d = new[] { 1f, 2f, 3f, 4f };
        Sgemm.Run(false, false, 2, 2, 1, 0f, new[] { 1f, 1f }, 1, new[] { 1f, 1f }, 2, 2f, d, 2);
        Assert.Equal(new[] { 2f, 4f, 6f, 8f }, d);
    }

    [Theory]
    [InlineData(5, 7, 9, 11, false, true)]  // small: parallel over the batch
    [InlineData(3, 150, 140, 130, true, false)] // large: sequential, threads inside each GEMM
    public void BatchedMatchesPerItemAndBroadcasts(int batch, int M, int N, int K, bool ta, bool tb)
    {
        int lda = ta ? M : K, ldb = tb ? K : N;
        var a = Random(batch * M * K, 1); var b = Random(K * N, 2); // B broadcast (stride 0)
        var c = Random(batch * M * N, 3); var c0 = (float[])c.Clone();
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = c)
            Sgemm.RunBatched(ta, tb, batch, M, N, K, 0.5f, pa, lda, M * K, pb, ldb, 0, 1f, pc, N, M * N);
        for (int i = 0; i < batch; i++)
            CheckAgainstReference(ta, tb, M, N, K, 0.5f, 1f, a[(i * M * K)..], lda, b, ldb, c0[(i * M * N)..], c[(i * M * N)..], N);

        // strideC = 0 with beta = 1 sums the batch into one C, in order.
        var acc = new float[M * N];
        fixed (float* pa = a) fixed (float* pb = b) fixed (float* pc = acc)
            Sgemm.RunBatched(ta, tb, batch, M, N, K, 1f, pa, lda, M * K, pb, ldb, 0, 1f, pc, N, 0);
        var sumA = new float[M * K];
        for (int i = 0; i < batch; i++) for (int t = 0; t < M * K; t++) sumA[t] += a[i * M * K + t];
        CheckAgainstReference(ta, tb, M, N, K, 1f, 0f, sumA, lda, b, ldb, new float[M * N], acc, N);

        Assert.Equal("strideB", Assert.ThrowsAny<ArgumentException>(() => Sgemm.RunBatched(ta, tb, batch, M, N, K, 1f, null, lda, 0, null, ldb, -1, 0f, null, N, 0)).ParamName);
    }
}
