// Parity tests for the SGEMM (MatMul.cs, MatMulTiled.cs): all four transpose variants, batched strides,
// alpha/beta, every block tile of the tiled kernel (scalar path at odd sizes, float4 path at sizes that
// are multiples of 4 but not of the tiles), the generic kernel with an odd tile, and matmul backward.
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class MatMulKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    const double Tol = 1e-4;
    const int M = 37, N = 29, K = 45, Batch = 2;

    [Fact] public void Sgemm_CpuWarp32() => CheckSgemm(fx.CpuWarp32, null);
    [Fact] public void Sgemm_CpuWarp4_OddTile() => CheckSgemm(fx.CpuWarp4, new GemmTile(4, 2, 5));
    [CudaFact] public void Sgemm_Cuda() => CheckSgemm(fx.Cuda, null);

    [Theory]
    [InlineData(GemmBlock.B64x64, 37, 29, 45)]
    [InlineData(GemmBlock.B64x64, 68, 76, 44)]
    [InlineData(GemmBlock.B128x64, 37, 29, 45)]
    [InlineData(GemmBlock.B128x64, 132, 68, 20)]
    [InlineData(GemmBlock.B128x128, 37, 29, 45)]
    [InlineData(GemmBlock.B128x128, 132, 136, 12)]
    public void SgemmTiled_CpuWarp32(GemmBlock block, int m, int n, int k) =>
        CheckSgemm(fx.CpuWarp32, null, block, m, n, k);

    [CudaTheory]
    [InlineData(GemmBlock.B64x64, 37, 29, 45)]
    [InlineData(GemmBlock.B64x64, 68, 76, 44)]
    [InlineData(GemmBlock.B128x64, 261, 133, 71)]
    [InlineData(GemmBlock.B128x64, 260, 132, 72)]
    [InlineData(GemmBlock.B128x128, 261, 259, 67)]
    [InlineData(GemmBlock.B128x128, 260, 264, 68)]
    public void SgemmTiled_Cuda(GemmBlock block, int m, int n, int k) => CheckSgemm(fx.Cuda, null, block, m, n, k);

    /// <summary>A view that starts 1 float into its buffer cannot use float4 loads: the launcher must
    /// see that (not just the leading dimensions) and take the scalar path.</summary>
    [Fact]
    public void SgemmTiled_MisalignedView_CpuWarp32()
    {
        var acc = fx.CpuWarp32;
        const int m = 20, n = 24, k = 16;
        var a = Ref.Randn(m * k + 1, 61); var b = Ref.Randn(k * n, 62);
        using var ba = acc.Upload(a); using var bb = acc.Upload(b); using var bc = acc.Zeros<float>(m * n);
        KernelLauncher.For(acc).Sgemm(bc.View, ba.View.SubView(1, m * k), bb.View, m, n, k, block: GemmBlock.B64x64);
        var expected = Gemm(a[1..], b, new float[m * n], m, n, k, false, false, 1, 0, 1);
        Ref.AssertClose(expected, bc.Read(m * n), Tol, "sgemm misaligned A view", floor: 1);
    }
    [Fact] public void MatMulBackward_CpuWarp32() => CheckBackward(fx.CpuWarp32);
    [CudaFact] public void MatMulBackward_Cuda() => CheckBackward(fx.Cuda);

    /// <summary>cuBLAS through CuBlasAnchor on the same row-major buffers agrees with the reference,
    /// for every transpose variant, so the GEMM benchmark compares like with like.</summary>
    [CudaFact]
    public void CuBlasAnchor_Cuda()
    {
        var acc = fx.Cuda;
        using var blas = new CuBlasAnchor(acc);
        var a = Ref.Randn(M * K, 57); var b = Ref.Randn(K * N, 58);
        using var ba = acc.Upload(a); using var bb = acc.Upload(b); using var bc = acc.Zeros<float>(M * N);
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            blas.Sgemm(bc.View, ba.View, bb.View, M, N, K, ta, tb);
            var expected = Gemm(a, b, new float[M * N], M, N, K, ta, tb, 1, 0, 1);
            Ref.AssertClose(expected, bc.Read(M * N), Tol, $"cublas transA={ta} transB={tb}", floor: 1);
        }
    }

    [Fact]
    public void CuBlasAnchor_RejectsCpuAccelerator() =>
        Assert.Throws<ArgumentException>(() => new CuBlasAnchor(fx.CpuWarp32));

    /// <summary>Reference C = alpha op(A) op(B) + beta C0 for one batch, row-major dense.</summary>
    static double[] Gemm(float[] a, float[] b, float[] c0, int m, int n, int k, bool ta, bool tb,
        double alpha, double beta, int batch)
    {
        var c = new double[batch * m * n];
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                        s += (double)a[z * m * k + (ta ? p * m + i : i * k + p)] * b[z * k * n + (tb ? j * k + p : p * n + j)];
                    int o = z * m * n + i * n + j;
                    c[o] = alpha * s + beta * c0[o];
                }
        return c;
    }

    static void CheckSgemm(Accelerator acc, GemmTile? tile, GemmBlock block = GemmBlock.Auto,
        int M = M, int N = N, int K = K)
    {
        var kl = KernelLauncher.For(acc);
        var a = Ref.Randn(Batch * M * K, 51);
        var b = Ref.Randn(Batch * K * N, 52);
        var c0 = Ref.Randn(Batch * M * N, 53);
        using var ba = acc.Upload(a); using var bb = acc.Upload(b);
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            // One variant also checks alpha/beta accumulation into an existing C.
            bool ab = ta && !tb;
            float alpha = ab ? 0.5f : 1f, beta = ab ? 0.25f : 0f;
            using var bc = ab ? acc.Upload(c0) : acc.Zeros<float>(c0.Length);
            kl.Sgemm(bc.View, ba.View, bb.View, M, N, K, ta, tb, alpha, beta, Batch,
                strideA: M * K, strideB: K * N, strideC: M * N, tile: tile, block: block);
            var expected = Gemm(a, b, c0, M, N, K, ta, tb, alpha, beta, Batch);
            Ref.AssertClose(expected, bc.Read(c0.Length), Tol, $"sgemm {M}x{N}x{K} transA={ta} transB={tb} tile={tile} block={block}", floor: 1);
        }
    }

    static void CheckBackward(Accelerator acc)
    {
        var kl = KernelLauncher.For(acc);
        var a = Ref.Randn(M * K, 54); var b = Ref.Randn(K * N, 55); var dc = Ref.Randn(M * N, 56);
        using var ba = acc.Upload(a); using var bb = acc.Upload(b); using var bdc = acc.Upload(dc);
        using var bda = acc.Zeros<float>(M * K); using var bdb = acc.Zeros<float>(K * N);
        kl.MatMulBackward(bda.View, bdb.View, bdc.View, ba.View, bb.View, M, N, K);
        var eda = new double[M * K]; var edb = new double[K * N];
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                for (int p = 0; p < K; p++)
                {
                    eda[i * K + p] += (double)dc[i * N + j] * b[p * N + j];
                    edb[p * N + j] += (double)a[i * K + p] * dc[i * N + j];
                }
        Ref.AssertClose(eda, bda.Read(M * K), Tol, "matmul dA", floor: 1);
        Ref.AssertClose(edb, bdb.Read(K * N), Tol, "matmul dB", floor: 1);
    }
}
