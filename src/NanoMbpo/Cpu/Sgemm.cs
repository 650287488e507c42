// Sgemm: the public single-precision GEMM entry points (row-major, BLAS-style transpose flags).
//   C(M,N) = alpha * op(A)(M,K) · op(B)(K,N) + beta * C; beta == 0 overwrites C (NaN in C is ignored).
// Picks the kernel set for this CPU (AVX-512 / AVX2+FMA / scalar), decides whether operands are packed,
// and splits C over CpuThreads with a fixed partition of whole tiles along M or N (chosen by shape only,
// so the same thread count always gives the same split; the arithmetic per element never depends on it).
// Tests: tests/NanoMbpo.Tests/Cpu/SgemmTests.cs; benchmarks: bench/NanoMbpo.Bench, `nanombpo bench gemm`.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoMbpo.Cpu;

public static unsafe class Sgemm
{
    /// <summary>Test/bench switch: run a given kernel set instead of the best one (per calling thread).</summary>
    [ThreadStatic] internal static SgemmIsa ForceIsa;
    /// <summary>Test/bench switch: 0 auto, 1 always pack A and B, -1 read in place wherever possible.</summary>
    [ThreadStatic] internal static int ForcePack;
    /// <summary>Below this many multiply-adds per thread, fewer threads are used (hand-off is ~1 µs).</summary>
    internal const long MinMacsPerThread = 1 << 16;
    /// <summary>Operands up to this many floats are read in place instead of packed (they sit in L2).</summary>
    internal const long InPlaceLimit = 1 << 16;

    [ThreadStatic] static GemmJob? _job;
    [ThreadStatic] static BatchJob? _batchJob;

    internal static SgemmIsa BestIsa { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? SgemmIsa.Avx512
        : Fma.IsSupported && Avx2.IsSupported ? SgemmIsa.Avx2 : SgemmIsa.Scalar;

    internal static SgemmIsa ActiveIsa => ForceIsa == SgemmIsa.Auto ? BestIsa : ForceIsa;

    /// <summary>Row-major GEMM on raw pointers. op(A) is A (M,K) with row stride lda, or A stored (K,M) when transA.</summary>
    public static void Run(bool transA, bool transB, int M, int N, int K, float alpha, float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
        => RunCore(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, CpuThreads.Available);

    /// <summary>Row-major GEMM on spans; validates every size and stride against the span lengths.</summary>
    public static void Run(bool transA, bool transB, int M, int N, int K, float alpha, ReadOnlySpan<float> A, int lda, ReadOnlySpan<float> B, int ldb, float beta, Span<float> C, int ldc)
    {
        CheckDims(M, N, K);
        CheckOperand(nameof(A), nameof(lda), A.Length, transA ? K : M, transA ? M : K, lda);
        CheckOperand(nameof(B), nameof(ldb), B.Length, transB ? N : K, transB ? K : N, ldb);
        CheckOperand(nameof(C), nameof(ldc), C.Length, M, N, ldc);
        fixed (float* pa = A) fixed (float* pb = B) fixed (float* pc = C)
            RunCore(transA, transB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc, CpuThreads.Available);
    }

    /// <summary>batch independent GEMMs; strideA/B/C (elements) step between matrices, 0 broadcasts one matrix.
    /// strideC = 0 accumulates every product into one C in batch order (use beta = 1).</summary>
    public static void RunBatched(bool transA, bool transB, int batch, int M, int N, int K, float alpha, float* A, int lda, long strideA,
        float* B, int ldb, long strideB, float beta, float* C, int ldc, long strideC)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 0.");
        if (strideA < 0) throw new ArgumentOutOfRangeException(nameof(strideA), strideA, "strideA must be >= 0.");
        if (strideB < 0) throw new ArgumentOutOfRangeException(nameof(strideB), strideB, "strideB must be >= 0.");
        if (strideC < 0) throw new ArgumentOutOfRangeException(nameof(strideC), strideC, "strideC must be >= 0.");
        CheckDims(M, N, K);
        CheckStrides(transA, transB, M, N, K, lda, ldb, ldc);
        if (batch == 0) return;
        int threads = CpuThreads.Available;
        long macs = (long)M * N * K;
        // Parallelise over the batch (each GEMM on one thread; same arithmetic either way) when the batch
        // splits evenly or the GEMMs are too small to split well; strideC = 0 accumulates, so stays in order.
        if (threads > 1 && batch > 1 && strideC != 0 && (batch % threads == 0 || macs < 1L << 21))
        {
            var job = _batchJob ??= new BatchJob();
            job.Set(transA, transB, batch, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, ActiveIsa, ForcePack);
            CpuThreads.Run(job, Math.Min(threads, batch));
            return;
        }
        for (int b = 0; b < batch; b++)
            RunCore(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta, C + b * strideC, ldc, threads);
    }

    internal static void RunCore(bool transA, bool transB, int M, int N, int K, float alpha, float* A, int lda, float* B, int ldb, float beta, float* C, int ldc, int threads)
        => RunCore(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, threads, ActiveIsa, ForcePack);

    /// <summary>The fused linear layer: C(M,N) = op(A)·op(B) + bias (N) on every row, then max(·, 0)
    /// when relu. Same rounding as seeding C with the bias and running with beta = 1; the epilogue
    /// runs on each tile while it is in cache, so no extra pass over C. bias may be null.</summary>
    internal static void RunBiasRelu(bool transA, bool transB, int M, int N, int K, float* A, int lda, float* B, int ldb, float* C, int ldc,
        float* bias, bool relu)
        => RunCore(transA, transB, M, N, K, 1f, A, lda, B, ldb, 0f, C, ldc, CpuThreads.Available, ActiveIsa, ForcePack, bias, relu);

    static void RunCore(bool transA, bool transB, int M, int N, int K, float alpha, float* A, int lda, float* B, int ldb, float beta, float* C, int ldc,
        int threads, SgemmIsa isa, int forcePack, float* bias = null, bool relu = false)
    {
        CheckDims(M, N, K);
        CheckStrides(transA, transB, M, N, K, lda, ldb, ldc);
        if (M == 0 || N == 0) return;
        if (C == null) throw new ArgumentNullException(nameof(C));
        if (K == 0 || alpha == 0f)
        {
            ScaleC(M, N, beta, C, ldc);
            if (bias != null || relu) SgemmDriver.Epilogue(C, ldc, M, N, bias, relu);
            return;
        }
        if (A == null) throw new ArgumentNullException(nameof(A));
        if (B == null) throw new ArgumentNullException(nameof(B));

        var p = new GemmProblem
        {
            M = M, N = N, K = K, Alpha = alpha, Beta = beta, C = C, Ldc = ldc, Csc = 1,
            A = A, Ars = transA ? 1 : lda, Aks = transA ? lda : 1,
            B = B, Bks = transB ? 1 : ldb, Bjs = transB ? ldb : 1,
            Bias = bias, Relu = relu,
        };
        bool small = forcePack < 0 || (forcePack == 0 && (long)M * K <= InPlaceLimit && (long)K * N <= InPlaceLimit);
        if (small && bias == null && !relu && SwapPays(p)) p = Swapped(p);   // the epilogue indexes C by unswapped columns
        var ks = KernelSet.For(isa, p.N);
        // Aᵀ storage read in place puts each k step of a tile on its own cache line, at a stride that
        // aliases in L1; once the tile is reused across several B panels a contiguous copy is cheaper.
        bool packA = !small || (p.Ars == 1 && p.N > 4 * ks.NR);
        // The same holds for row-major B read in place: a KxNR micro-panel at a row stride of 256 floats
        // maps to 4 of L1's 64 sets, so it cannot stay in L1 across the row tiles that reuse it. A
        // packed, contiguous panel does (MLP step, paired interleaved rounds: 8-10% faster per step).
        // With few rows the copy is not repaid (16x256x256 in isolation: 76 -> 58 GFLOP/s), hence M >= 128;
        // rows of 16 floats are whole cache lines, contiguous, and lose 2-3% to the copy, hence ldb >= 64
        // (ldb 64 still aliases to a quarter of L1; packing it gained another 3-5% per MLP step).
        bool packB = !small || p.Bjs != 1 || (forcePack == 0 && p.K > 32 && p.M >= 128 && p.Bks >= 64);
        M = p.M; N = p.N;

        // Split along M when B is packed once and shared (large operands); otherwise each thread packs the
        // operand it does not split in full, so split the dimension whose partner is cheaper to pack.
        int tilesM = (M + ks.MR - 1) / ks.MR, tilesN = (N + ks.NR - 1) / ks.NR;
        long costSplitN = packA ? (long)M * K * (p.Ars == 1 ? 1 : 3) : 0;
        // Large operands with at least MC rows per thread: B is packed once and shared (no redundant cost).
        // With fewer rows per thread the per-K-block barriers cost more than packing A twice (measured on
        // 256x768x3072: 142-148 vs 156-162 GFLOP/s), so fall back to the cost rule.
        bool shareB = SgemmTuning.SharedB && !small && M >= (long)ks.MC * Math.Max(1, threads);
        long costSplitM = packB && !shareB ? (long)K * N * (p.Bjs == 1 ? 1 : 3) : 0;
        bool splitN = costSplitN < costSplitM || (costSplitN == costSplitM && N >= M);
        if (splitN && tilesN < Math.Min(threads, tilesM)) splitN = false;
        else if (!splitN && tilesM < Math.Min(threads, tilesN)) splitN = true;
        int tiles = splitN ? tilesN : tilesM;
        long macs = (long)M * N * K;
        int t = (int)Math.Min(Math.Min(threads, tiles), Math.Max(1, macs / MinMacsPerThread));
        if (t <= 1) { SgemmDriver.Compute(p, ks, packA, packB, 0, M, 0, N); return; }
        var job = _job ??= new GemmJob();
        job.P = p; job.Ks = ks; job.PackA = packA; job.PackB = packB; job.SplitN = splitN; job.Tiles = tiles;
        job.UseShared = !splitN && packB && shareB;
        if (job.UseShared) job.Shared ??= new SharedPanel();
        CpuThreads.Run(job, t);
    }

    /// <summary>In the in-place regime only B is ever packed (when it is stored transposed, a strided
    /// transpose copy). When op(A)ᵀ is cheaper to pack than op(B), e.g. a short M with transB, compute
    /// Cᵀ = op(B)ᵀ·op(A)ᵀ instead and pay for scattering the C tiles.</summary>
    static bool SwapPays(in GemmProblem p)
    {
        // Costs in element moves: a transposing pack ~1 (8x8 AVX transposes), a scattered C element ~3
        // per K block (scalar read-modify-write through the tile buffer).
        long keep = p.Bjs != 1 ? (long)p.K * p.N : 0;
        long swap = (p.Ars != 1 ? (long)p.K * p.M : 0) + 3L * p.M * p.N * ((p.K + 255) / 256);
        return swap < keep;
    }

    static GemmProblem Swapped(in GemmProblem p) => new()
    {
        M = p.N, N = p.M, K = p.K, Alpha = p.Alpha, Beta = p.Beta,
        A = p.B, Ars = p.Bjs, Aks = p.Bks,
        B = p.A, Bks = p.Aks, Bjs = p.Ars,
        C = p.C, Ldc = p.Csc, Csc = p.Ldc,
    };

    sealed class GemmJob : PoolJob
    {
        internal GemmProblem P;
        internal KernelSet Ks;
        internal bool PackA, PackB, SplitN;
        internal int Tiles;
        internal SharedPanel? Shared; // created by the caller before the threads start
        internal bool UseShared;
        internal override string TraceName => $"Sgemm {P.M}x{P.N}x{P.K} split {(SplitN ? "N" : "M")}";

        internal override void Execute(int chunk, int chunkCount)
        {
            // Every chunk gets at least one tile (chunks <= tiles), so all parties reach each barrier.
            // The pool lets threads claim chunks (a caller runs those no worker has started), but a
            // thread claims another chunk only after finishing one, and a shared-panel chunk finishes
            // only when every chunk has reached its last barrier, i.e. is already running elsewhere:
            // so these chunks always run one per thread, and a late worker is still waited for.
            int t0 = (int)((long)Tiles * chunk / chunkCount), t1 = (int)((long)Tiles * (chunk + 1) / chunkCount);
            if (SplitN) SgemmDriver.Compute(P, Ks, PackA, PackB, 0, P.M, t0 * Ks.NR, Math.Min(P.N, t1 * Ks.NR));
            else if (Concurrent && UseShared && Shared != null && Ks.KC <= GemmWorkspace.MaxKC && Ks.NC <= GemmWorkspace.MaxNC)
                SgemmDriver.Compute(P, Ks, PackA, PackB, t0 * Ks.MR, Math.Min(P.M, t1 * Ks.MR), 0, P.N, Shared, chunk, chunkCount);
            else SgemmDriver.Compute(P, Ks, PackA, PackB, t0 * Ks.MR, Math.Min(P.M, t1 * Ks.MR), 0, P.N);
        }
    }

    sealed class BatchJob : PoolJob
    {
        bool _ta, _tb; int _batch, _m, _n, _k, _lda, _ldb, _ldc, _forcePack; float _alpha, _beta;
        float* _a, _b, _c; long _sa, _sb, _sc; SgemmIsa _isa;

        internal void Set(bool ta, bool tb, int batch, int m, int n, int k, float alpha, float* a, int lda, long sa, float* b, int ldb, long sb,
            float beta, float* c, int ldc, long sc, SgemmIsa isa, int forcePack)
        {
            _ta = ta; _tb = tb; _batch = batch; _m = m; _n = n; _k = k; _alpha = alpha; _a = a; _lda = lda; _sa = sa;
            _b = b; _ldb = ldb; _sb = sb; _beta = beta; _c = c; _ldc = ldc; _sc = sc; _isa = isa; _forcePack = forcePack;
        }

        internal override void Execute(int chunk, int chunkCount)
        {
            int s = (int)((long)_batch * chunk / chunkCount), e = (int)((long)_batch * (chunk + 1) / chunkCount);
            for (int i = s; i < e; i++)
                RunCore(_ta, _tb, _m, _n, _k, _alpha, _a + i * _sa, _lda, _b + i * _sb, _ldb, _beta, _c + i * _sc, _ldc, 1, _isa, _forcePack);
        }
    }

    static void ScaleC(int M, int N, float beta, float* C, int ldc)
    {
        for (int i = 0; i < M; i++)
        {
            var row = new Span<float>(C + (long)i * ldc, N);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    static void CheckDims(int M, int N, int K)
    {
        if (M < 0) throw new ArgumentOutOfRangeException(nameof(M), M, "M must be >= 0.");
        if (N < 0) throw new ArgumentOutOfRangeException(nameof(N), N, "N must be >= 0.");
        if (K < 0) throw new ArgumentOutOfRangeException(nameof(K), K, "K must be >= 0.");
    }

    static void CheckStrides(bool transA, bool transB, int M, int N, int K, int lda, int ldb, int ldc)
    {
        int minA = Math.Max(1, transA ? M : K), minB = Math.Max(1, transB ? K : N), minC = Math.Max(1, N);
        if (lda < minA) throw new ArgumentOutOfRangeException(nameof(lda), lda, $"lda must be >= {minA} (row length of A as stored).");
        if (ldb < minB) throw new ArgumentOutOfRangeException(nameof(ldb), ldb, $"ldb must be >= {minB} (row length of B as stored).");
        if (ldc < minC) throw new ArgumentOutOfRangeException(nameof(ldc), ldc, $"ldc must be >= {minC} (N).");
    }

    static void CheckOperand(string name, string ldName, int length, int rows, int cols, int ld)
    {
        int minLd = Math.Max(1, cols);
        if (ld < minLd) throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be >= {minLd} (row length of {name} as stored).");
        long need = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < need)
            throw new ArgumentException($"{name} has {length} elements but a ({rows},{cols}) matrix with row stride {ld} needs {need}.", name);
    }
}
