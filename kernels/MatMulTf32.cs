// TF32 tensor-core SGEMM: C = alpha op(A) op(B) + beta C over row-major float32, every transpose
// variant, batched via strides (grid z = batch), the same arguments as MatMulKernels.Sgemm.
// Inner product: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 through CudaAsm (inline PTX).
// Tiling: a group is WarpsM x WarpsN warps (2x4 = 128x128 on CUDA); a warp owns a 64x32 block of C
// as 4x4 mma tiles of 16x8. K advances 16 at a time through double-buffered shared memory: the next
// K-tile is fetched with float4 global loads into registers while the 32 mma of the current one run,
// one barrier per K-tile. Both operands are stored [row][k] (unpadded) whatever their transpose (a
// compile-time layout TL), so the mma loop is one code; a lane reads its fragments as float4
// (12 ld.shared.v4 per warp per K-tile), feeding the mma's k slots in an order A and B share.
// Inputs are rounded to TF32 (round to nearest, ties away, as cvt.rna does) once, when staged;
// accumulation is float32. On CUDA the 64 accumulators per lane are PTX registers the kernel
// declares itself (tcacc*, MatMulTf32Asm.cs): each mma is an input-only inline asm and the epilogue
// stores straight from them, because ILGPU routes Emit outputs through .local memory. The grid is
// walked in groups of 8 block rows for L2 reuse.
// Off CUDA (ILGPU's CPU accelerator) the same kernel runs with an emulated mma that gathers the
// documented per-lane fragments into shared memory and multiplies them, so the CPU parity test
// checks the tile, fragment and k-order logic, not just a plain GEMM.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.MatMulTf32Tests"; PTX: Kernels.PtxCompileTests
// and `nanombpo ptx --filter Tf32`. Bench: nanombpo bench gpu (GpuBench.Gemm) against cuBLAS TF32.
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo.Kernels;

/// <summary>Sizes of one (batched) TF32 SGEMM; WarpsN is the number of warps along N in a group.</summary>
public struct Tf32GemmArgs
{
    public int M, N, K, Lda, Ldb, Ldc, WarpsN, VecA, VecB;
    public float Alpha, Beta;
    public long StrideA, StrideB, StrideC;
    /// <summary>Device address of C's first element (the CUDA epilogue stores from PTX registers).</summary>
    public long CPtr;
}

/// <summary>Up to four registers of one lane's mma fragment (PTX ISA "Matrix Fragments for
/// mma.m16n8k8", g = lane / 4, t = lane % 4). As accumulator: X0 (g, 2t), X1 (g, 2t+1), X2 (g+8, 2t),
/// X3 (g+8, 2t+1). As A: X0 (g, t), X1 (g+8, t), X2 (g, t+4), X3 (g+8, t+4). As B: X0 (t, g), X1 (t+4, g).</summary>
public struct Frag4
{
    public float X0, X1, X2, X3;
}

/// <summary>A warp's 64x32 block of C as 4x4 mma tiles (row i = 16i, column j = 8j). Used by the
/// emulation; on CUDA the same values live in the PTX registers tcacc*.</summary>
public struct Tf32Acc
{
    public Frag4 C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;
}

public static partial class MatMulTf32Kernels
{
    public const int Bk = 16, WarpM = 64, WarpN = 32;
    /// <summary>Row stride of a shared tile: both operands are stored row-major in k ([m][k] for A,
    /// [n][k] for B) whatever their global layout, so the mma loop is one code for every transpose.
    /// Unpadded: a lane reads its fragments as float4 at (row g = lane/4, k 4t, t = lane%4), and the
    /// 8 lanes of a 128-bit phase (rows g, g+1) then cover the 32 banks exactly once.</summary>
    public const int Stride = Bk;

    /// <summary>Floats of dynamic shared memory: two stages of the A (bm rows) and B (bn rows) tiles.</summary>
    public static int SharedFloats(int bm, int bn) => 2 * (bm + bn) * Stride;

    /// <summary>Block rows per group of the grid swizzle (see Sgemm).</summary>
    const int SwizzleRows = 8;

    /// <summary>Per-warp scratch of the emulated mma: the 4 A (16x8) and 4 B (8x8) fragments of a k-step.</summary>
    public const int EmulationScratchPerWarp = 4 * (16 * 8 + 8 * 8);

    /// <summary>Explicitly grouped: 32·WarpsM·WarpsN threads (WarpsN in {2,4,8}, WarpsM in {1,2,4}),
    /// grid (ceil(N/bn), ceil(M/bm), batch). TL fixes the transposes at compile time.</summary>
    public static void Sgemm<TL>(Tf32GemmArgs g, ArrayView<float> c /* (batch,M,N) */,
        ArrayView<float> a /* (batch,M,K) or (batch,K,M) */, ArrayView<float> b /* (batch,K,N) or (batch,N,K) */)
        where TL : struct, IGemmLayout
    {
        // First, so that the PTX declaration of tcacc*/tcv* precedes every block that uses them.
        if (CudaAsm.IsSupported) CudaAsm.Emit(DeclareAcc);
        var smem = SharedMemory.GetDynamic<float>();
        int threads = Group.DimX, tid = Group.IdxX;
        int warps = threads >> 5, warpsM = warps / g.WarpsN;
        int bm = WarpM * warpsM, bn = WarpN * g.WarpsN;
        int aStage = bm * Stride, bStage = bn * Stride;
        var As = smem.SubView(0, 2 * aStage);
        var Bs = smem.SubView(2 * aStage, 2 * bStage);
        var As4 = As.Cast<GemmF4>();
        var Bs4 = Bs.Cast<GemmF4>();
        int warp = tid >> 5, lane = tid & 31;
        int gq = lane >> 2, tq = lane & 3; // PTX "groupID" and "threadID_in_group"
        int mw = (warp / g.WarpsN) * WarpM, nw = (warp % g.WarpsN) * WarpN;
        var scratch = smem.SubView(2 * (aStage + bStage) + warp * EmulationScratchPerWarp,
            CudaAsm.IsSupported ? 0 : EmulationScratchPerWarp);
        // Groups of 8 block rows walk down N together (block id order): the 8 A panels and the
        // B panel a wave is working on stay in L2 instead of streaming every B panel per block row.
        int lin = Grid.IdxY * Grid.DimX + Grid.IdxX, perGroup = SwizzleRows * Grid.DimX;
        int firstRow = lin / perGroup * SwizzleRows, groupRows = Math.Min(Grid.DimY - firstRow, SwizzleRows);
        int inGroup = lin - lin / perGroup * perGroup;
        int m0 = (firstRow + inGroup % groupRows) * bm, n0 = inGroup / groupRows * bn;
        long batch = Grid.IdxZ;
        long aBase = batch * g.StrideA, bBase = batch * g.StrideB, cBase = batch * g.StrideC;
        var a4 = a.Cast<GemmF4>();
        var b4 = b.Cast<GemmF4>();
        bool ta = default(TL).TransA, tb = default(TL).TransB;
        // float4 pieces of a tile per thread: A has bm·BK/4, B bn·BK/4 (at most 4 each, see launcher).
        int nA = bm * (Bk / 4) / threads, nB = bn * (Bk / 4) / threads;

        GemmF4 pa0 = default, pa1 = default, pa2 = default, pa3 = default;
        GemmF4 pb0 = default, pb1 = default, pb2 = default, pb3 = default;
        pa0 = Fetch(a, a4, aBase, g.Lda, m0, g.M, 0, g.K, tid, !ta, g.VecA);
        if (nA > 1) pa1 = Fetch(a, a4, aBase, g.Lda, m0, g.M, 0, g.K, tid + threads, !ta, g.VecA);
        if (nA > 2) pa2 = Fetch(a, a4, aBase, g.Lda, m0, g.M, 0, g.K, tid + 2 * threads, !ta, g.VecA);
        if (nA > 3) pa3 = Fetch(a, a4, aBase, g.Lda, m0, g.M, 0, g.K, tid + 3 * threads, !ta, g.VecA);
        pb0 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, 0, g.K, tid, tb, g.VecB);
        if (nB > 1) pb1 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, 0, g.K, tid + threads, tb, g.VecB);
        if (nB > 2) pb2 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, 0, g.K, tid + 2 * threads, tb, g.VecB);
        if (nB > 3) pb3 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, 0, g.K, tid + 3 * threads, tb, g.VecB);
        Put(As, As4, 0, pa0, tid, !ta);
        if (nA > 1) Put(As, As4, 0, pa1, tid + threads, !ta);
        if (nA > 2) Put(As, As4, 0, pa2, tid + 2 * threads, !ta);
        if (nA > 3) Put(As, As4, 0, pa3, tid + 3 * threads, !ta);
        Put(Bs, Bs4, 0, pb0, tid, tb);
        if (nB > 1) Put(Bs, Bs4, 0, pb1, tid + threads, tb);
        if (nB > 2) Put(Bs, Bs4, 0, pb2, tid + 2 * threads, tb);
        if (nB > 3) Put(Bs, Bs4, 0, pb3, tid + 3 * threads, tb);
        Group.Barrier();

        Tf32Acc acc = default;
        int tiles = (g.K + Bk - 1) / Bk;
        for (int t = 0; t < tiles; t++)
        {
            int stage = t & 1;
            bool more = t + 1 < tiles;
            if (more)
            {
                // The next tile's global loads are issued now; their latency hides behind the mma below.
                int k1 = (t + 1) * Bk;
                pa0 = Fetch(a, a4, aBase, g.Lda, m0, g.M, k1, g.K, tid, !ta, g.VecA);
                if (nA > 1) pa1 = Fetch(a, a4, aBase, g.Lda, m0, g.M, k1, g.K, tid + threads, !ta, g.VecA);
                if (nA > 2) pa2 = Fetch(a, a4, aBase, g.Lda, m0, g.M, k1, g.K, tid + 2 * threads, !ta, g.VecA);
                if (nA > 3) pa3 = Fetch(a, a4, aBase, g.Lda, m0, g.M, k1, g.K, tid + 3 * threads, !ta, g.VecA);
                pb0 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, k1, g.K, tid, tb, g.VecB);
                if (nB > 1) pb1 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, k1, g.K, tid + threads, tb, g.VecB);
                if (nB > 2) pb2 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, k1, g.K, tid + 2 * threads, tb, g.VecB);
                if (nB > 3) pb3 = Fetch(b, b4, bBase, g.Ldb, n0, g.N, k1, g.K, tid + 3 * threads, tb, g.VecB);
            }
            // Views at this lane's first fragment float4 of the stage: every fragment load below is a
            // constant offset from them (A rows 16i and +8, B rows 8j).
            var at = As4.SubView((stage * aStage + (mw + gq) * Stride) / 4 + tq, (WarpM - 8) * Stride / 4 + 1);
            var bt = Bs4.SubView((stage * bStage + (nw + gq) * Stride) / 4 + tq, (WarpN - 8) * Stride / 4 + 1);
            acc = KTile(acc, at, bt, scratch, gq, tq);
            if (more)
            {
                // The other stage was last read before the previous barrier, so it is free.
                int next = 1 - stage;
                Put(As, As4, next * aStage, pa0, tid, !ta);
                if (nA > 1) Put(As, As4, next * aStage, pa1, tid + threads, !ta);
                if (nA > 2) Put(As, As4, next * aStage, pa2, tid + 2 * threads, !ta);
                if (nA > 3) Put(As, As4, next * aStage, pa3, tid + 3 * threads, !ta);
                Put(Bs, Bs4, next * bStage, pb0, tid, tb);
                if (nB > 1) Put(Bs, Bs4, next * bStage, pb1, tid + threads, tb);
                if (nB > 2) Put(Bs, Bs4, next * bStage, pb2, tid + 2 * threads, tb);
                if (nB > 3) Put(Bs, Bs4, next * bStage, pb3, tid + 3 * threads, tb);
            }
            Group.Barrier();
        }
        int r = m0 + mw + gq, col = n0 + nw + 2 * tq;
        if (CudaAsm.IsSupported)
        {
            StoreTileRegs(0, g, cBase, r + 0, col); StoreTileRegs(1, g, cBase, r + 0, col + 8);
            StoreTileRegs(2, g, cBase, r + 0, col + 16); StoreTileRegs(3, g, cBase, r + 0, col + 24);
            StoreTileRegs(4, g, cBase, r + 16, col); StoreTileRegs(5, g, cBase, r + 16, col + 8);
            StoreTileRegs(6, g, cBase, r + 16, col + 16); StoreTileRegs(7, g, cBase, r + 16, col + 24);
            StoreTileRegs(8, g, cBase, r + 32, col); StoreTileRegs(9, g, cBase, r + 32, col + 8);
            StoreTileRegs(10, g, cBase, r + 32, col + 16); StoreTileRegs(11, g, cBase, r + 32, col + 24);
            StoreTileRegs(12, g, cBase, r + 48, col); StoreTileRegs(13, g, cBase, r + 48, col + 8);
            StoreTileRegs(14, g, cBase, r + 48, col + 16); StoreTileRegs(15, g, cBase, r + 48, col + 24);
            return;
        }
        Store(g, c, cBase, r + 0, col, acc.C00); Store(g, c, cBase, r + 0, col + 8, acc.C01);
        Store(g, c, cBase, r + 0, col + 16, acc.C02); Store(g, c, cBase, r + 0, col + 24, acc.C03);
        Store(g, c, cBase, r + 16, col, acc.C10); Store(g, c, cBase, r + 16, col + 8, acc.C11);
        Store(g, c, cBase, r + 16, col + 16, acc.C12); Store(g, c, cBase, r + 16, col + 24, acc.C13);
        Store(g, c, cBase, r + 32, col, acc.C20); Store(g, c, cBase, r + 32, col + 8, acc.C21);
        Store(g, c, cBase, r + 32, col + 16, acc.C22); Store(g, c, cBase, r + 32, col + 24, acc.C23);
        Store(g, c, cBase, r + 48, col, acc.C30); Store(g, c, cBase, r + 48, col + 8, acc.C31);
        Store(g, c, cBase, r + 48, col + 16, acc.C32); Store(g, c, cBase, r + 48, col + 24, acc.C33);
    }

    /// <summary>float4 piece <paramref name="f"/> of a BK-wide tile of rows row0.. (m of A, n of B).
    /// kContig (A, or B transposed: rows run along k in memory): piece = (row f/4, k 4·(f%4)), 4 lanes
    /// per 64-byte row segment. Else (rows contiguous in memory): piece = (k f%16, rows 4·(f/16)..),
    /// 16 lanes on 16 k-rows so that the transposing shared stores spread over all banks.</summary>
    static GemmF4 Fetch(ArrayView<float> x, ArrayView<GemmF4> x4, long xBase, int ld, int row0, int rows,
        int k0, int kLen, int f, bool kContig, int vec)
    {
        if (kContig)
        {
            int gr = row0 + (f >> 2), gk = k0 + (f & 3) * 4;
            long at = xBase + (long)gr * ld + gk;
            return Load4(x, x4, at, vec != 0 && gr < rows && gk + 3 < kLen, gr < rows, kLen - gk);
        }
        else
        {
            int gk = k0 + (f & 15), gr = row0 + (f >> 4) * 4;
            long at = xBase + (long)gk * ld + gr;
            return Load4(x, x4, at, vec != 0 && gk < kLen && gr + 3 < rows, gk < kLen, rows - gr);
        }
    }

    /// <summary>Four consecutive floats: one vector load when allowed, else the first
    /// <paramref name="left"/> of them (zeros past the edge or when the line is out of range).</summary>
    static GemmF4 Load4(ArrayView<float> x, ArrayView<GemmF4> x4, long at, bool vector, bool lineOk, int left)
    {
        if (vector) return x4[at >> 2];
        GemmF4 v = default;
        if (lineOk)
        {
            if (left > 0) v.X = x[at];
            if (left > 1) v.Y = x[at + 1];
            if (left > 2) v.Z = x[at + 2];
            if (left > 3) v.W = x[at + 3];
        }
        return v;
    }

    /// <summary>Stores piece <paramref name="f"/> (see <see cref="Fetch"/>) rounded to TF32 into the
    /// stage at <paramref name="s"/> of a [row][k] tile: one float4 store when kContig, else 4 floats down a k column.</summary>
    static void Put(ArrayView<float> xs, ArrayView<GemmF4> xs4, int s, GemmF4 v, int f, bool kContig)
    {
        v.X = RoundTf32(v.X); v.Y = RoundTf32(v.Y); v.Z = RoundTf32(v.Z); v.W = RoundTf32(v.W);
        if (kContig)
        {
            xs4[(s + (f >> 2) * Stride + (f & 3) * 4) >> 2] = v;
        }
        else
        {
            // Lanes 16..31 hold the next row group (4 rows = 64 floats on, the same banks): they write
            // their rows in the order 1, 0, 3, 2, so each store's two half-warps use different banks.
            int i = s + (f >> 4) * 4 * Stride + (f & 15);
            bool h = ((f >> 4) & 1) != 0;
            int o = h ? Stride : 0;
            xs[i + o] = h ? v.Y : v.X;
            xs[i + Stride - o] = h ? v.X : v.Y;
            xs[i + 2 * Stride + o] = h ? v.W : v.Z;
            xs[i + 3 * Stride - o] = h ? v.Z : v.W;
        }
    }

    /// <summary>One K-tile (16 k) of the warp's 64x32 block: 32 mma. A lane holds, per A row (g and
    /// g+8 of each 16-row tile) and per B row (n = g of each 8-column tile), the float4 at k 4t..4t+3.
    /// The mma sums over k, so any k order shared by A and B is correct: the hardware's k index t is
    /// fed k 4t+2s and its t+4 is fed k 4t+2s+1 in k-step s (s = 0 uses X, Y; s = 1 uses Z, W).
    /// Fragment registers (PTX ISA m16n8k8): a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4);
    /// b0 (k t, n g), b1 (k t+4, n g).</summary>
    static Tf32Acc KTile(Tf32Acc c, ArrayView<GemmF4> at, ArrayView<GemmF4> bt, ArrayView<float> scratch, int gq, int tq)
    {
        var q0 = bt[0]; var q1 = bt[32]; var q2 = bt[64]; var q3 = bt[96];
        if (CudaAsm.IsSupported)
        {
            // Row by row of A tiles, each loading its two A float4 just before its 8 mma, so that
            // ptxas need not keep all A fragments live; the two k-steps of one accumulator tile are
            // four mma apart.
            Row(0, at, q0, q1, q2, q3);
            Row(1, at, q0, q1, q2, q3);
            Row(2, at, q0, q1, q2, q3);
            Row(3, at, q0, q1, q2, q3);
            return c;
        }
        var l0 = at[0]; var h0 = at[32];
        var l1 = at[64]; var h1 = at[96];
        var l2 = at[128]; var h2 = at[160];
        var l3 = at[192]; var h3 = at[224];
        c = EmulatedStep(c, A(l0, h0, 0), A(l1, h1, 0), A(l2, h2, 0), A(l3, h3, 0),
            B(q0, 0), B(q1, 0), B(q2, 0), B(q3, 0), scratch, gq, tq);
        return EmulatedStep(c, A(l0, h0, 1), A(l1, h1, 1), A(l2, h2, 1), A(l3, h3, 1),
            B(q0, 1), B(q1, 1), B(q2, 1), B(q3, 1), scratch, gq, tq);
    }

    /// <summary>A fragment of k-step s from the lane's float4 of rows g (lo) and g+8 (hi).</summary>
    static Frag4 A(GemmF4 lo, GemmF4 hi, int s) => s == 0
        ? new Frag4 { X0 = lo.X, X1 = hi.X, X2 = lo.Y, X3 = hi.Y }
        : new Frag4 { X0 = lo.Z, X1 = hi.Z, X2 = lo.W, X3 = hi.W };

    /// <summary>B fragment of k-step s from the lane's float4 of column n = g.</summary>
    static Frag4 B(GemmF4 q, int s) => s == 0 ? new Frag4 { X0 = q.X, X1 = q.Y } : new Frag4 { X0 = q.Z, X1 = q.W };

    /// <summary>The 8 mma of A tile i (rows 16i..) against the 4 B tiles, both k-steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Row(int i, ArrayView<GemmF4> at, GemmF4 q0, GemmF4 q1, GemmF4 q2, GemmF4 q3)
    {
        var lo = at[64 * i]; var hi = at[64 * i + 32]; // rows 16i + g and 16i + g + 8
        var a = A(lo, hi, 0);
        MmaRegs(4 * i + 0, a, B(q0, 0)); MmaRegs(4 * i + 1, a, B(q1, 0));
        MmaRegs(4 * i + 2, a, B(q2, 0)); MmaRegs(4 * i + 3, a, B(q3, 0));
        a = A(lo, hi, 1);
        MmaRegs(4 * i + 0, a, B(q0, 1)); MmaRegs(4 * i + 1, a, B(q1, 1));
        MmaRegs(4 * i + 2, a, B(q2, 1)); MmaRegs(4 * i + 3, a, B(q3, 1));
    }

    /// <summary>Emulation of one k-step: the warp publishes its fragments (one barrier pair for 16
    /// mma keeps the CPU accelerator's emulated barriers affordable), then every lane computes its
    /// accumulator elements as the PTX ISA defines the mma.</summary>
    static Tf32Acc EmulatedStep(Tf32Acc c, Frag4 a0, Frag4 a1, Frag4 a2, Frag4 a3, Frag4 b0, Frag4 b1, Frag4 b2, Frag4 b3,
        ArrayView<float> scratch, int gq, int tq)
    {
        Publish(scratch, 0, a0, b0, gq, tq); Publish(scratch, 1, a1, b1, gq, tq);
        Publish(scratch, 2, a2, b2, gq, tq); Publish(scratch, 3, a3, b3, gq, tq);
        Group.Barrier();
        c.C00 = EmulatedMma(c.C00, scratch, 0, 0, gq, tq); c.C01 = EmulatedMma(c.C01, scratch, 0, 1, gq, tq);
        c.C02 = EmulatedMma(c.C02, scratch, 0, 2, gq, tq); c.C03 = EmulatedMma(c.C03, scratch, 0, 3, gq, tq);
        c.C10 = EmulatedMma(c.C10, scratch, 1, 0, gq, tq); c.C11 = EmulatedMma(c.C11, scratch, 1, 1, gq, tq);
        c.C12 = EmulatedMma(c.C12, scratch, 1, 2, gq, tq); c.C13 = EmulatedMma(c.C13, scratch, 1, 3, gq, tq);
        c.C20 = EmulatedMma(c.C20, scratch, 2, 0, gq, tq); c.C21 = EmulatedMma(c.C21, scratch, 2, 1, gq, tq);
        c.C22 = EmulatedMma(c.C22, scratch, 2, 2, gq, tq); c.C23 = EmulatedMma(c.C23, scratch, 2, 3, gq, tq);
        c.C30 = EmulatedMma(c.C30, scratch, 3, 0, gq, tq); c.C31 = EmulatedMma(c.C31, scratch, 3, 1, gq, tq);
        c.C32 = EmulatedMma(c.C32, scratch, 3, 2, gq, tq); c.C33 = EmulatedMma(c.C33, scratch, 3, 3, gq, tq);
        Group.Barrier();
        return c;
    }

    /// <summary>Emulation, step 1: every lane writes its A fragment <paramref name="i"/> and B
    /// fragment <paramref name="i"/> at their documented (row, col) positions of a 16x8 A and an 8x8 B
    /// in the warp's scratch. A wrong fragment index here or in LoadA/LoadB breaks parity.</summary>
    static void Publish(ArrayView<float> scratch, int i, Frag4 a, Frag4 b, int gq, int tq)
    {
        var sa = scratch.SubView(i * 128, 128);      // sa[row * 8 + k]
        var sb = scratch.SubView(512 + i * 64, 64);  // sb[k * 8 + n]
        sa[gq * 8 + tq] = a.X0;
        sa[(gq + 8) * 8 + tq] = a.X1;
        sa[gq * 8 + tq + 4] = a.X2;
        sa[(gq + 8) * 8 + tq + 4] = a.X3;
        sb[tq * 8 + gq] = b.X0;
        sb[(tq + 4) * 8 + gq] = b.X1;
    }

    /// <summary>Emulation, step 2 (after a barrier): the mma as the PTX ISA defines it, each lane
    /// computing its own accumulator elements (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1).</summary>
    static Frag4 EmulatedMma(Frag4 c, ArrayView<float> scratch, int i, int j, int gq, int tq)
    {
        var sa = scratch.SubView(i * 128, 128);
        var sb = scratch.SubView(512 + j * 64, 64);
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        for (int k = 0; k < 8; k++)
        {
            float lo = sa[gq * 8 + k], hi = sa[(gq + 8) * 8 + k];
            float e = sb[k * 8 + 2 * tq], o = sb[k * 8 + 2 * tq + 1];
            s0 += lo * e; s1 += lo * o; s2 += hi * e; s3 += hi * o;
        }
        return new Frag4 { X0 = c.X0 + s0, X1 = c.X1 + s1, X2 = c.X2 + s2, X3 = c.X3 + s3 };
    }

    /// <summary>float32 → TF32 (8-bit exponent, 10-bit mantissa) by round-to-nearest, ties away
    /// from zero, kept in a float with the low 13 bits clear (what cvt.rna.tf32.f32 computes). Done
    /// with two integer ops on every device: ILGPU's EmitRef for cvt put both operands in .local memory.</summary>
    public static float RoundTf32(float x) => RoundTf32Emulated(x);

    /// <summary>Bit-level emulation of cvt.rna.tf32.f32: adding half an ulp of the 10-bit mantissa to
    /// the magnitude bits and truncating rounds ties away from zero; NaN and infinity pass through.</summary>
    public static float RoundTf32Emulated(float x)
    {
        uint bits = Interop.FloatAsInt(x);
        if ((bits & 0x7F800000u) == 0x7F800000u) return x;
        return Interop.IntAsFloat((bits + 0x1000u) & 0xFFFFE000u);
    }

    /// <summary>CUDA epilogue of accumulator tile t (registers tcacc[4t..4t+3] at (m, n), (m, n+1),
    /// (m+8, n), (m+8, n+1)); C's device address comes from the host (Tf32GemmArgs.CPtr).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTileRegs(int t, Tf32GemmArgs g, long cBase, int m, int n)
    {
        StoreOneReg(4 * t + 0, g, cBase, m, n);
        StoreOneReg(4 * t + 1, g, cBase, m, n + 1);
        StoreOneReg(4 * t + 2, g, cBase, m + 8, n);
        StoreOneReg(4 * t + 3, g, cBase, m + 8, n + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreOneReg(int reg, Tf32GemmArgs g, long cBase, int m, int n)
    {
        if (m >= g.M || n >= g.N) return;
        long i = cBase + (long)m * g.Ldc + n;
        StoreReg(reg, (ulong)(g.CPtr + 4 * i), g.Alpha, g.Beta);
    }

    static void Store(Tf32GemmArgs g, ArrayView<float> c, long cBase, int m, int n, Frag4 v)
    {
        Store1(g, c, cBase, m, n, v.X0);
        Store1(g, c, cBase, m, n + 1, v.X1);
        Store1(g, c, cBase, m + 8, n, v.X2);
        Store1(g, c, cBase, m + 8, n + 1, v.X3);
    }

    static void Store1(Tf32GemmArgs g, ArrayView<float> c, long cBase, int m, int n, float v)
    {
        if (m >= g.M || n >= g.N) return;
        long i = cBase + (long)m * g.Ldc + n;
        // beta == 0 must not read C: it may hold garbage or NaN.
        c[i] = g.Beta == 0f ? g.Alpha * v : g.Alpha * v + g.Beta * c[i];
    }
}
