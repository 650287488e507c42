// Launch side of the TF32 tensor-core SGEMM (kernels/MatMulTf32.cs): argument checks, the kernel
// per transpose and group size (with a register launch bound), and the shape rule (UseTf32) the
// engine's TF32 policy (src/NanoMbpo/Tf32.cs) applies. Test: dotnet test --filter "FullyQualifiedName~Kernels.MatMulTf32Tests". Bench: GpuBench.Gemm.
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public sealed partial class KernelLauncher
{
    /// <summary>TF32 pays off only when the tensor cores have enough work to hide the rounding and the
    /// fixed 128x128 group tile is mostly full: every side at least 256 and 2^28 multiply-adds
    /// (about 645³). Smaller matmuls stay on the fp32 SGEMM.</summary>
    public static bool UseTf32(long m, long n, long k) => m >= 256 && n >= 256 && k >= 256 && m * n * k >= 1L << 28;

    /// <summary>Warps of the TF32 group along (M, N): 2x4 (128x128 tile, 256 threads) on CUDA, or the
    /// largest layout the device's group size allows (2x2 = 128 threads, else 1x2 = 64).</summary>
    public (int WarpsM, int WarpsN) DefaultTf32Warps =>
        MaxGroupSize >= 256 ? (2, 4) : MaxGroupSize >= 128 ? (2, 2) : (1, 2);

    /// <summary>Whether this accelerator can run the TF32 kernel: warp 32 and at least 1x2 warps per group.</summary>
    public bool SupportsTf32 => WarpSize == 32 && MaxGroupSize >= 64;

    /// <summary>C (batch,M,N) = alpha op(A) op(B) + beta C with TF32 tensor-core products (10-bit
    /// mantissa inputs, float32 accumulation): relative error ~1e-3 of the dot-product magnitude, not
    /// the 1e-4 of <see cref="Sgemm"/>. Same arguments and defaults as Sgemm. Needs warp size 32; off
    /// CUDA the mma is emulated (correctness only, slow).</summary>
    public void SgemmTf32(ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, int m, int n, int k,
        bool transA = false, bool transB = false, float alpha = 1f, float beta = 0f, int batch = 1,
        long strideA = 0, long strideB = 0, long strideC = 0, int lda = 0, int ldb = 0, int ldc = 0,
        (int WarpsM, int WarpsN)? warps = null)
    {
        const string op = "sgemm_tf32";
        Require(m > 0 && n > 0 && k > 0 && batch > 0, op, $"sizes must be positive, got M={m} N={n} K={k} batch={batch}");
        Require(WarpSize == 32, op, $"needs a warp size of 32 (mma fragments), the device has {WarpSize}");
        if (lda == 0) lda = transA ? m : k;
        if (ldb == 0) ldb = transB ? k : n;
        if (ldc == 0) ldc = n;
        var (wm, wn) = warps ?? DefaultTf32Warps;
        // Each thread stages at most 4 float4 of A (8 / WarpsN) and of B (4 / WarpsM) per K-tile.
        Require(wm is 1 or 2 or 4 && wn is 2 or 4 or 8, op, $"warps must be (1|2|4) x (2|4|8), got {wm}x{wn}");
        Require(32 * wm * wn <= MaxGroupSize, op,
            $"{wm}x{wn} warps need {32 * wm * wn} threads, the device allows {MaxGroupSize} per group");
        string sizes = $"M={m} N={n} K={k} batch={batch}";
        RequireLength(a, (batch - 1) * strideA + (long)((transA ? k : m) - 1) * lda + (transA ? m : k), op + " " + sizes, "A");
        RequireLength(b, (batch - 1) * strideB + (long)((transB ? n : k) - 1) * ldb + (transB ? k : n), op + " " + sizes, "B");
        RequireLength(c, (batch - 1) * strideC + (long)(m - 1) * ldc + n, op + " " + sizes, "C");
        var kernel = (transA, transB) switch
        {
            (false, false) => Tf32<GemmNN>(32 * wm * wn),
            (false, true) => Tf32<GemmNT>(32 * wm * wn),
            (true, false) => Tf32<GemmTN>(32 * wm * wn),
            (true, true) => Tf32<GemmTT>(32 * wm * wn),
        };
        // float4 access needs 16-byte addresses: view start, leading dimension and batch stride.
        static int Vec(ArrayView<float> v, int ld, long stride) =>
            v.LoadEffectiveAddressAsPtr().ToInt64() % 16 == 0 && ld % 4 == 0 && stride % 4 == 0 ? 1 : 0;
        var args = new Tf32GemmArgs
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, WarpsN = wn,
            VecA = Vec(a, lda, strideA), VecB = Vec(b, ldb, strideB),
            Alpha = alpha, Beta = beta, StrideA = strideA, StrideB = strideB, StrideC = strideC,
            CPtr = c.LoadEffectiveAddressAsPtr().ToInt64(),
        };
        int bm = MatMulTf32Kernels.WarpM * wm, bn = MatMulTf32Kernels.WarpN * wn;
        int shared = MatMulTf32Kernels.SharedFloats(bm, bn);
        if (Accelerator.AcceleratorType != AcceleratorType.Cuda)
            shared += wm * wn * MatMulTf32Kernels.EmulationScratchPerWarp;
        var grid = new Index3D((n + bn - 1) / bn, (m + bm - 1) / bm, batch);
        var config = new KernelConfig(grid, new Index3D(32 * wm * wn, 1, 1), SharedMemoryConfig.RequestDynamic<float>(shared));
        kernel(config, args, c, a, b);
    }

    /// <summary>Loaded once per (layout, group size) with a launch bound of 128 registers per thread
    /// (as <see cref="TiledRegisterBudget"/> for the fp32 kernel): two 256-thread groups stay resident
    /// per SM, so one group's barrier and global-load waits are covered by the other's mma. The 64
    /// accumulators, one K-tile of B and two rows of A fragments and the prefetched tile fit in it.</summary>
    Action<KernelConfig, Tf32GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>> Tf32<TL>(int threads)
        where TL : struct, IGemmLayout =>
        Cache.Get($"MatMulTf32.Sgemm.{typeof(TL).Name}.{threads}", acc =>
            acc.LoadStreamKernel<Tf32GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MatMulTf32Kernels.Sgemm<TL>,
                new KernelSpecialization(threads, Tf32GroupsPerSm ?? Math.Max(1, 65536 / (threads * TiledRegisterBudget)))));

    /// <summary>NANOMBPO_TF32_GROUPS_PER_SM=1..8 overrides the launch bound's resident groups per SM
    /// (1 lets ptxas use up to 255 registers), for tuning on a new GPU without a rebuild.</summary>
    static int? Tf32GroupsPerSm
    {
        get
        {
            var v = Environment.GetEnvironmentVariable("NANOMBPO_TF32_GROUPS_PER_SM");
            if (string.IsNullOrEmpty(v)) return null;
            if (!int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) || n < 1 || n > 8)
                throw new ArgumentException($"NANOMBPO_TF32_GROUPS_PER_SM must be an integer 1..8, got '{v}'");
            return n;
        }
    }
}
