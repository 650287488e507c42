// SGEMM C = alpha op(A) op(B) + beta C over row-major float32, every transpose variant, batched via
// strides (grid z = batch). The launcher runs the fast tiled kernel (MatMulTiled.cs: 8x8 per thread,
// float4 loads, double-buffered, layout and block shape chosen at compile time) and picks its block
// tile per problem size so small problems still fill the GPU. This file also keeps the generic kernel
// (4x4 per thread, any group shape and BK as launch parameters, GemmTile): the fallback for devices
// whose groups are too small for the tiled kernel (the default CPU accelerator allows 16 threads) and
// for callers that pass an explicit GemmTile. Backward of a matmul is two more SGEMMs (MatMulBackward).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.MatMul". Anchor: CuBlasAnchor; bench: GpuBench.
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Sizes of one (batched) SGEMM; passed to the kernel as one struct.</summary>
public struct GemmArgs
{
    public int M, N, K, Lda, Ldb, Ldc, TransA, TransB, Bk;
    /// <summary>Tiled kernel only: 1 when the operand's view start, leading dimension and batch stride
    /// are multiples of 4 floats, so aligned float4 loads/stores are legal.</summary>
    public int VecA, VecB, VecC;
    public float Alpha, Beta;
    public long StrideA, StrideB, StrideC;
}

/// <summary>Block tile of the tiled SGEMM kernel (Auto: chosen by problem size and device).</summary>
public enum GemmBlock { Auto, B128x128, B128x64, B64x64 }

/// <summary>Thread-group shape and K-tile of the SGEMM: the block tile is (4 ThreadsY) x (4 ThreadsX).</summary>
public readonly record struct GemmTile(int ThreadsX, int ThreadsY, int Bk)
{
    public int BlockM => 4 * ThreadsY;
    public int BlockN => 4 * ThreadsX;
    public int SharedFloats => Bk * (BlockM + BlockN);
}

public static partial class MatMulKernels
{
    /// <summary>The generic kernel (see file header); the launcher uses it only as a fallback.</summary>
    public static void Sgemm(GemmArgs g, ArrayView<float> c /* (batch,M,N) */, ArrayView<float> a /* (batch,M,K) or (batch,K,M) */,
        ArrayView<float> b /* (batch,K,N) or (batch,N,K) */)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int tx = Group.IdxX, ty = Group.IdxY, tx_n = Group.DimX, ty_n = Group.DimY;
        int bm = 4 * ty_n, bn = 4 * tx_n, bk = g.Bk;
        var As = smem.SubView(0, bk * bm);       // As[k * bm + m]: k-major so the inner loop reads rows
        var Bs = smem.SubView(bk * bm, bk * bn); // Bs[k * bn + n]
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bn;
        long batch = Grid.IdxZ;
        long aBase = batch * g.StrideA, bBase = batch * g.StrideB, cBase = batch * g.StrideC;
        int tid = ty * tx_n + tx, threads = tx_n * ty_n;
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int k0 = 0; k0 < g.K; k0 += bk)
        {
            // Consecutive threads read consecutive addresses of A and B whatever the transpose.
            for (int e = tid; e < bk * bm; e += threads)
            {
                int mm = g.TransA == 0 ? e / bk : e % bm;
                int kk = g.TransA == 0 ? e % bk : e / bm;
                int gm = m0 + mm, gk = k0 + kk;
                float v = 0f;
                if (gm < g.M && gk < g.K)
                    v = g.TransA == 0 ? a[aBase + (long)gm * g.Lda + gk] : a[aBase + (long)gk * g.Lda + gm];
                As[kk * bm + mm] = v;
            }
            for (int e = tid; e < bk * bn; e += threads)
            {
                int nn = g.TransB == 0 ? e % bn : e / bk;
                int kk = g.TransB == 0 ? e / bn : e % bk;
                int gn = n0 + nn, gk = k0 + kk;
                float v = 0f;
                if (gn < g.N && gk < g.K)
                    v = g.TransB == 0 ? b[bBase + (long)gk * g.Ldb + gn] : b[bBase + (long)gn * g.Ldb + gk];
                Bs[kk * bn + nn] = v;
            }
            Group.Barrier();
            for (int kk = 0; kk < bk; kk++)
            {
                // Rows ty + i*DimY, columns tx + j*DimX: neighbouring threads touch neighbouring
                // shared-memory words and neighbouring output columns.
                int ar = kk * bm + ty, br = kk * bn + tx;
                float a0 = As[ar], a1 = As[ar + ty_n], a2 = As[ar + 2 * ty_n], a3 = As[ar + 3 * ty_n];
                float b0 = Bs[br], b1 = Bs[br + tx_n], b2 = Bs[br + 2 * tx_n], b3 = Bs[br + 3 * tx_n];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        Store(g, c, cBase, m0 + ty + 0 * ty_n, n0 + tx + 0 * tx_n, c00); Store(g, c, cBase, m0 + ty + 0 * ty_n, n0 + tx + 1 * tx_n, c01);
        Store(g, c, cBase, m0 + ty + 0 * ty_n, n0 + tx + 2 * tx_n, c02); Store(g, c, cBase, m0 + ty + 0 * ty_n, n0 + tx + 3 * tx_n, c03);
        Store(g, c, cBase, m0 + ty + 1 * ty_n, n0 + tx + 0 * tx_n, c10); Store(g, c, cBase, m0 + ty + 1 * ty_n, n0 + tx + 1 * tx_n, c11);
        Store(g, c, cBase, m0 + ty + 1 * ty_n, n0 + tx + 2 * tx_n, c12); Store(g, c, cBase, m0 + ty + 1 * ty_n, n0 + tx + 3 * tx_n, c13);
        Store(g, c, cBase, m0 + ty + 2 * ty_n, n0 + tx + 0 * tx_n, c20); Store(g, c, cBase, m0 + ty + 2 * ty_n, n0 + tx + 1 * tx_n, c21);
        Store(g, c, cBase, m0 + ty + 2 * ty_n, n0 + tx + 2 * tx_n, c22); Store(g, c, cBase, m0 + ty + 2 * ty_n, n0 + tx + 3 * tx_n, c23);
        Store(g, c, cBase, m0 + ty + 3 * ty_n, n0 + tx + 0 * tx_n, c30); Store(g, c, cBase, m0 + ty + 3 * ty_n, n0 + tx + 1 * tx_n, c31);
        Store(g, c, cBase, m0 + ty + 3 * ty_n, n0 + tx + 2 * tx_n, c32); Store(g, c, cBase, m0 + ty + 3 * ty_n, n0 + tx + 3 * tx_n, c33);
    }

    static void Store(GemmArgs g, ArrayView<float> c, long cBase, int m, int n, float v)
    {
        if (m >= g.M || n >= g.N) return;
        long i = cBase + (long)m * g.Ldc + n;
        // beta == 0 must not read C: it may hold garbage or NaN.
        c[i] = g.Beta == 0f ? g.Alpha * v : g.Alpha * v + g.Beta * c[i];
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>Default tile: 16x16 threads (64x64 block, BK 16) where the device allows, else the
    /// largest square that fits (4x4 threads on the default CPU device).</summary>
    public GemmTile DefaultGemmTile
    {
        get
        {
            int t = 16;
            while (t * t > MaxGroupSize) t /= 2;
            int ty = t;
            while (t * ty * 2 <= MaxGroupSize && ty < 16) ty *= 2;
            return new GemmTile(t, ty, 16);
        }
    }

    /// <summary>C (batch,M,N) = alpha op(A) op(B) + beta C, row-major. Leading dimensions default to
    /// dense rows (lda = transA ? M : K, ldb = transB ? K : N, ldc = N); batch strides in elements.
    /// Runs the tiled kernel with <paramref name="block"/> (Auto: by problem size) unless a
    /// <paramref name="tile"/> is given or the device's groups are too small, then the generic kernel.</summary>
    public void Sgemm(ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, int m, int n, int k,
        bool transA = false, bool transB = false, float alpha = 1f, float beta = 0f, int batch = 1,
        long strideA = 0, long strideB = 0, long strideC = 0, int lda = 0, int ldb = 0, int ldc = 0, GemmTile? tile = null,
        GemmBlock block = GemmBlock.Auto)
    {
        const string op = "sgemm";
        Require(m > 0 && n > 0 && k > 0 && batch > 0, op, $"sizes must be positive, got M={m} N={n} K={k} batch={batch}");
        if (lda == 0) lda = transA ? m : k;
        if (ldb == 0) ldb = transB ? k : n;
        if (ldc == 0) ldc = n;
        string sizes = $"M={m} N={n} K={k} batch={batch}";
        RequireLength(a, (batch - 1) * strideA + (long)((transA ? k : m) - 1) * lda + (transA ? m : k), op + " " + sizes, "A");
        RequireLength(b, (batch - 1) * strideB + (long)((transB ? n : k) - 1) * ldb + (transB ? k : n), op + " " + sizes, "B");
        RequireLength(c, (batch - 1) * strideC + (long)(m - 1) * ldc + n, op + " " + sizes, "C");
        var args = new GemmArgs
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
            Alpha = alpha, Beta = beta, StrideA = strideA, StrideB = strideB, StrideC = strideC,
        };
        if (block == GemmBlock.Auto && tile is null) block = ChooseGemmBlock(m, n, batch);
        if (tile is null && block != GemmBlock.Auto && GemmBlockThreads(block) <= MaxGroupSize)
        {
            LaunchTiled(args, c, a, b, block, transA, transB, batch);
            return;
        }
        var t = tile ?? DefaultGemmTile;
        Require(t.ThreadsX * t.ThreadsY <= MaxGroupSize && t.Bk > 0, op, $"tile {t} exceeds the device's {MaxGroupSize} threads per group");
        var kernel = Cache.Get("MatMul.Sgemm", acc =>
            acc.LoadStreamKernel<GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MatMulKernels.Sgemm));
        args.Bk = t.Bk;
        var grid = new Index3D((n + t.BlockN - 1) / t.BlockN, (m + t.BlockM - 1) / t.BlockM, batch);
        var config = new KernelConfig(grid, new Index3D(t.ThreadsX, t.ThreadsY, 1),
            SharedMemoryConfig.RequestDynamic<float>(t.SharedFloats));
        kernel(config, args, c, a, b);
    }

    /// <summary>On CUDA the largest block tile that still gives the device about two waves of groups
    /// (132 SMs on an H100 hold two 128x128 groups each): 128x128 for big C, then 128x64, then 64x64.
    /// Elsewhere 64x64: the CPU accelerator emulates every thread, so the smallest tile wastes least.</summary>
    public GemmBlock ChooseGemmBlock(int m, int n, int batch)
    {
        if (MaxGroupSize < 64) return GemmBlock.Auto;
        if (Accelerator.AcceleratorType != AcceleratorType.Cuda) return GemmBlock.B64x64;
        long Groups(int bm, int bn) => (long)((m + bm - 1) / bm) * ((n + bn - 1) / bn) * batch;
        int sms = Math.Max(1, Accelerator.NumMultiprocessors);
        if (MaxGroupSize >= 256 && Groups(128, 128) >= 2 * sms) return GemmBlock.B128x128;
        if (MaxGroupSize >= 128 && Groups(128, 64) >= 2 * sms) return GemmBlock.B128x64;
        return GemmBlock.B64x64;
    }

    static int GemmBlockThreads(GemmBlock block) => block switch
    {
        GemmBlock.B128x128 => 256,
        GemmBlock.B128x64 => 128,
        GemmBlock.B64x64 => 64,
        _ => int.MaxValue,
    };

    void LaunchTiled(GemmArgs args, ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, GemmBlock block,
        bool transA, bool transB, int batch)
    {
        // float4 access needs 16-byte addresses: the view start, the leading dimension and the batch
        // stride all in multiples of 4 floats.
        static int Vec(ArrayView<float> v, int ld, long stride) =>
            v.LoadEffectiveAddressAsPtr().ToInt64() % 16 == 0 && ld % 4 == 0 && stride % 4 == 0 ? 1 : 0;
        args.VecA = Vec(a, args.Lda, args.StrideA);
        args.VecB = Vec(b, args.Ldb, args.StrideB);
        args.VecC = Vec(c, args.Ldc, args.StrideC);
        var kernel = (transA, transB, block) switch
        {
            (false, false, GemmBlock.B128x128) => Tiled<GemmNN, Gemm128x128>(),
            (false, true, GemmBlock.B128x128) => Tiled<GemmNT, Gemm128x128>(),
            (true, false, GemmBlock.B128x128) => Tiled<GemmTN, Gemm128x128>(),
            (true, true, GemmBlock.B128x128) => Tiled<GemmTT, Gemm128x128>(),
            (false, false, GemmBlock.B128x64) => Tiled<GemmNN, Gemm128x64>(),
            (false, true, GemmBlock.B128x64) => Tiled<GemmNT, Gemm128x64>(),
            (true, false, GemmBlock.B128x64) => Tiled<GemmTN, Gemm128x64>(),
            (true, true, GemmBlock.B128x64) => Tiled<GemmTT, Gemm128x64>(),
            (false, false, _) => Tiled<GemmNN, Gemm64x64>(),
            (false, true, _) => Tiled<GemmNT, Gemm64x64>(),
            (true, false, _) => Tiled<GemmTN, Gemm64x64>(),
            (true, true, _) => Tiled<GemmTT, Gemm64x64>(),
        };
        var (bm, bn) = block switch { GemmBlock.B128x128 => (128, 128), GemmBlock.B128x64 => (128, 64), _ => (64, 64) };
        var grid = new Index3D((args.N + bn - 1) / bn, (args.M + bm - 1) / bm, batch);
        kernel(new KernelConfig(grid, new Index3D(bm * bn / 64, 1, 1)), args, c, a, b);
    }

    /// <summary>Registers per thread the tiled kernel is compiled for (.maxntid and .minnctapersm let
    /// ptxas know): 128 keeps two 256-thread groups resident per SM (64K registers), so one group's
    /// barrier wait is covered by the other's FMAs. The 8x8 accumulators plus two k-steps of operands
    /// and the prefetched tile fit in about 120.</summary>
    public const int TiledRegisterBudget = 128;

    /// <summary>Loaded once per (layout, shape).</summary>
    Action<KernelConfig, GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>> Tiled<TL, TS>()
        where TL : struct, IGemmLayout where TS : struct, IGemmShape
    {
        int threads = default(TS).BlockM * default(TS).BlockN / 64;
        return Cache.Get($"MatMul.SgemmTiled.{typeof(TL).Name}.{typeof(TS).Name}", acc =>
            acc.LoadStreamKernel<GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MatMulKernels.SgemmTiled<TL, TS>,
                new KernelSpecialization(threads, 65536 / (threads * TiledRegisterBudget))));
    }

    /// <summary>Gradients of C (M,N) = A (M,K) B (K,N): dA = dC Bᵀ, dB = Aᵀ dC (overwritten).</summary>
    public void MatMulBackward(ArrayView<float> da, ArrayView<float> db, ArrayView<float> dc, ArrayView<float> a,
        ArrayView<float> b, int m, int n, int k, GemmTile? tile = null)
    {
        Sgemm(da, dc, b, m, k, n, transB: true, tile: tile);
        Sgemm(db, a, dc, k, n, m, transA: true, tile: tile);
    }
}
