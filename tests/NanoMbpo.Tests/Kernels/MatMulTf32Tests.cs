// Parity tests for the TF32 tensor-core SGEMM (kernels/MatMulTf32.cs). On the CPU accelerator the
// kernel runs its emulated mma over the same tiles and fragments, so a wrong fragment index fails
// here; on CUDA (CudaFact) the real mma.sync runs. Also: the TF32 rounding, the size heuristic, and
// PTX for sm_90 containing the tensor-core instruction.
// Run: dotnet test -c Release --filter "FullyQualifiedName~Kernels.MatMulTf32Tests".
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class MatMulTf32Tests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    // |tf32(a) tf32(b) - a b| ≤ (2u + u²)|a b| with u = 2^-11, so every entry is within 9.8e-4 of
    // Σ|a||b| plus float accumulation; 1e-3 of the dot-product magnitude is the TF32 bound.
    const double Tf32Tol = 1e-3;
    // Against a reference built from the TF32-rounded inputs only float accumulation remains.
    const double RoundedTol = 1e-5;
    // Not multiples of the 64x32 warp tile, the group tiles or BK = 16.
    const int M = 139, N = 77, K = 45, Batch = 2;

    [Fact] public void SgemmTf32_CpuWarp32_AllTransposes() => Check(fx.CpuWarp32, null, M, N, K, Batch, tight: true);
    [Fact] public void SgemmTf32_CpuWarp32_TwoWarpGroup() => Check(fx.CpuWarp32, (1, 2), 41, 70, 19, 1, tight: true, onlyPlain: true);
    // 10 x 2 groups of 64x64: the grouped grid order's full group of 8 block rows and its partial last one.
    [Fact] public void SgemmTf32_CpuWarp32_GroupedGridOrder() => Check(fx.CpuWarp32, (1, 2), 581, 70, 9, 1, tight: true, onlyPlain: true);
    [CudaFact] public void SgemmTf32_Cuda_AllTransposes() => Check(fx.Cuda, null, 300, 211, 190, Batch, tight: false);
    [CudaFact] public void SgemmTf32_Cuda_Large() => Check(fx.Cuda, null, 1031, 517, 769, 1, tight: false, onlyPlain: true);

    [Fact]
    public void RoundTf32_RoundsToNearestTiesAwayFromZero()
    {
        float ulp = MathF.Pow(2, -10); // TF32 spacing just above 1
        Assert.Equal(1f, MatMulTf32Kernels.RoundTf32Emulated(1f + ulp / 4));
        Assert.Equal(1f + ulp, MatMulTf32Kernels.RoundTf32Emulated(1f + ulp / 2));   // tie: away from zero
        Assert.Equal(-1f - ulp, MatMulTf32Kernels.RoundTf32Emulated(-1f - ulp / 2)); // symmetric in sign
        Assert.Equal(1f + ulp, MatMulTf32Kernels.RoundTf32Emulated(1f + 0.75f * ulp));
        Assert.Equal(2f, MatMulTf32Kernels.RoundTf32Emulated(2f - ulp / 4));         // carries into the exponent
        Assert.True(float.IsNaN(MatMulTf32Kernels.RoundTf32Emulated(float.NaN)));
        Assert.Equal(float.NegativeInfinity, MatMulTf32Kernels.RoundTf32Emulated(float.NegativeInfinity));
        var x = Ref.Randn(1000, 7);
        foreach (var v in x)
        {
            float r = MatMulTf32Kernels.RoundTf32Emulated(v);
            Assert.Equal(0u, BitConverter.SingleToUInt32Bits(r) & 0x1FFFu);
            Assert.True(Math.Abs(r - v) <= Math.Abs(v) * Math.Pow(2, -11) * 1.0000001, $"{v} -> {r}");
        }
    }

    [Fact]
    public void UseTf32_OnlyForLargeMatmuls()
    {
        Assert.True(KernelLauncher.UseTf32(4096, 4096, 4096));
        Assert.True(KernelLauncher.UseTf32(4096, 768, 768));   // BERT QKV projection, B·T = 4096
        Assert.False(KernelLauncher.UseTf32(64, 4096, 4096));  // too thin for the 128-row tile
        Assert.False(KernelLauncher.UseTf32(256, 256, 256));   // 2^24 multiply-adds: launch-bound
    }

    [Fact]
    public void SgemmTf32_RejectsWarpSizeOtherThan32()
    {
        var acc = fx.CpuWarp4;
        using var a = acc.Zeros<float>(16); using var b = acc.Zeros<float>(16); using var c = acc.Zeros<float>(16);
        var e = Assert.Throws<ArgumentException>(() => KernelLauncher.For(acc).SgemmTf32(c.View, a.View, b.View, 4, 4, 4));
        Assert.Contains("warp size of 32", e.Message);
    }

    [Fact]
    public void SgemmTf32_CompilesToPtxWithTensorCoreMma()
    {
        using var context = Context.Create(b => b.EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90),
            CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, null);
        var kernel = typeof(MatMulTf32Kernels).GetMethod(nameof(MatMulTf32Kernels.Sgemm))!.MakeGenericMethod(typeof(GemmTN));
        var ptx = ((PTXCompiledKernel)backend.Compile(
            EntryPointDescription.FromExplicitlyGroupedKernel(kernel), KernelSpecialization.Empty)).PTXAssembly;
        // 16 mma per k-step of 8, both k-steps of a BK = 16 tile unrolled by hand.
        int mmas = CountOf(ptx, "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32");
        Assert.Equal(32, mmas);
        // Rounding to TF32 is RoundTf32Emulated's integer arithmetic on every device (tested above),
        // and the accumulators are kernel-declared PTX registers (PtxCompileTests checks no .local).
        Assert.Contains(".reg .f32 tcacc<64>", ptx);
    }

    static int CountOf(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Reference for one variant: exact (double) C from the given inputs and Σ|a||b| per entry.</summary>
    static (double[] C, double[] Mag) Reference(float[] a, float[] b, float[] c0, int m, int n, int k, bool ta, bool tb,
        double alpha, double beta, int batch)
    {
        var c = new double[batch * m * n];
        var mag = new double[batch * m * n];
        for (int z = 0; z < batch; z++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0, sa = 0;
                    for (int p = 0; p < k; p++)
                    {
                        double prod = (double)a[z * m * k + (ta ? p * m + i : i * k + p)] * b[z * k * n + (tb ? j * k + p : p * n + j)];
                        s += prod; sa += Math.Abs(prod);
                    }
                    int o = z * m * n + i * n + j;
                    c[o] = alpha * s + beta * c0[o];
                    mag[o] = Math.Abs(alpha) * sa + Math.Abs(beta * c0[o]);
                }
        return (c, mag);
    }

    /// <summary>max |got - expected| / max(magnitude, 1e-6), asserted ≤ tol.</summary>
    static double AssertWithin(double[] expected, double[] mag, float[] got, double tol, string what)
    {
        double worst = 0; int at = -1;
        for (int i = 0; i < got.Length; i++)
        {
            double err = Math.Abs(got[i] - expected[i]) / Math.Max(mag[i], 1e-6);
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            if (err > worst) { worst = err; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: error {worst:E3} of the dot-product magnitude at [{at}] " +
            $"(expected {expected[Math.Max(at, 0)]}, got {got[Math.Max(at, 0)]}) > {tol:E1}");
        return worst;
    }

    static void Check(Accelerator acc, (int, int)? warps, int m, int n, int k, int batch, bool tight, bool onlyPlain = false)
    {
        var kl = KernelLauncher.For(acc);
        var a = Ref.Randn(batch * m * k, 61);
        var b = Ref.Randn(batch * k * n, 62);
        var c0 = Ref.Randn(batch * m * n, 63);
        var ar = Array.ConvertAll(a, MatMulTf32Kernels.RoundTf32Emulated);
        var br = Array.ConvertAll(b, MatMulTf32Kernels.RoundTf32Emulated);
        using var ba = acc.Upload(a); using var bb = acc.Upload(b);
        var variants = onlyPlain ? [(false, false)] : new[] { (false, false), (true, false), (false, true), (true, true) };
        foreach (var (ta, tb) in variants)
        {
            bool ab = ta && !tb; // one variant also accumulates into an existing C
            float alpha = ab ? 0.5f : 1f, beta = ab ? 0.25f : 0f;
            using var bc = ab ? acc.Upload(c0) : acc.Zeros<float>(c0.Length);
            kl.SgemmTf32(bc.View, ba.View, bb.View, m, n, k, ta, tb, alpha, beta, batch,
                strideA: (long)m * k, strideB: (long)k * n, strideC: (long)m * n, warps: warps);
            var got = bc.Read(c0.Length);
            string what = $"sgemm_tf32 {m}x{n}x{k} transA={ta} transB={tb} warps={warps}";
            var (exact, mag) = Reference(a, b, c0, m, n, k, ta, tb, alpha, beta, batch);
            double err = AssertWithin(exact, mag, got, Tf32Tol, what + " vs fp64");
            if (!tight) continue;
            // The emulation must round exactly like cvt.rna and leave only float accumulation error,
            // and the rounding must be visible (a plain fp32 GEMM would pass the first check too).
            var (rounded, _) = Reference(ar, br, c0, m, n, k, ta, tb, alpha, beta, batch);
            AssertWithin(rounded, mag, got, RoundedTol, what + " vs fp64 of TF32-rounded inputs");
            Assert.True(err > 10 * RoundedTol, $"{what}: error {err:E2} vs unrounded inputs; TF32 rounding seems absent");
        }
    }
}
