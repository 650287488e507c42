// TF32 tensor-core SGEMM: C = alpha op(A) op(B) + beta C over row-major float32, every transpose
// variant, batched via strides (grid z = batch), the same arguments as MatMulKernels.Sgemm.
// Inner product: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 through CudaAsm (inline PTX).
// Tiling: a group is WarpsM x WarpsN warps of 32 lanes; a warp owns a 64x32 block of C as 4x4 mma
// tiles of 16x8 (16 four-float accumulators per lane); the group tile is (64 WarpsM) x (32 WarpsN)
// and K advances 16 at a time through shared memory. Inputs are rounded to TF32 (round to nearest,
// ties away, as cvt.rna does) once, when staged in shared memory; accumulation is float32. On CUDA the
// accumulators are 64 PTX registers the kernel declares itself (tcacc*), so each mma is an input-only
// inline asm: ILGPU's multi-output EmitRef had put every operand in .local memory (656-byte frame).
// Off CUDA (ILGPU's CPU accelerator) the same kernel runs with an emulated mma that gathers the
// documented per-lane fragments into shared memory and multiplies them, so the CPU parity test
// checks the tile and fragment index logic, not just a plain GEMM.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.MatMulTf32Tests". Bench: GpuBench.Gemm.
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo.Kernels;

/// <summary>Sizes of one (batched) TF32 SGEMM; WarpsN is the number of warps along N in a group.</summary>
public struct Tf32GemmArgs
{
    public int M, N, K, Lda, Ldb, Ldc, TransA, TransB, WarpsN;
    public float Alpha, Beta;
    public long StrideA, StrideB, StrideC;
}

/// <summary>Up to four registers of one lane's mma fragment (PTX ISA "Matrix Fragments for
/// mma.m16n8k8", g = lane / 4, t = lane % 4). As accumulator: X0 (g, 2t), X1 (g, 2t+1), X2 (g+8, 2t),
/// X3 (g+8, 2t+1). As A: X0 (g, t), X1 (g+8, t), X2 (g, t+4), X3 (g+8, t+4). As B: X0 (t, g), X1 (t+4, g).</summary>
public struct Frag4
{
    public float X0, X1, X2, X3;
}

public static class MatMulTf32Kernels
{
    public const int Bk = 16, WarpM = 64, WarpN = 32;
    const int PadK = 4, PadMN = 8;

    /// <summary>Floats of shared memory for the A tile (BM rows) under either transpose. k-contiguous
    /// rows get stride BK+4 (≡ 4 mod 32 banks), m-contiguous rows stride BM+8 (≡ 8 mod 32), so the
    /// fragment loads of a warp (8 groups x 4 lanes) hit 32 distinct banks in both layouts.</summary>
    public static int TileFloats(int rows) => Math.Max(rows * (Bk + PadK), Bk * (rows + PadMN));

    /// <summary>Per-warp scratch of the emulated mma: the 4 A (16x8) and 4 B (8x8) fragments of a k-step.</summary>
    public const int EmulationScratchPerWarp = 4 * (16 * 8 + 8 * 8);

    public static void Sgemm(Tf32GemmArgs g, ArrayView<float> c /* (batch,M,N) */,
        ArrayView<float> a /* (batch,M,K) or (batch,K,M) */, ArrayView<float> b /* (batch,K,N) or (batch,N,K) */)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int threads = Group.DimX, tid = Group.IdxX;
        int warps = threads / 32, warpsM = warps / g.WarpsN;
        int bm = WarpM * warpsM, bn = WarpN * g.WarpsN;
        int aFloats = TileFloats(bm), bFloats = TileFloats(bn);
        var As = smem.SubView(0, aFloats);
        var Bs = smem.SubView(aFloats, bFloats);
        int warp = tid / 32, lane = tid % 32;
        int gq = lane / 4, tq = lane % 4; // PTX "groupID" and "threadID_in_group"
        int mw = (warp / g.WarpsN) * WarpM, nw = (warp % g.WarpsN) * WarpN;
        var scratch = smem.SubView(aFloats + bFloats + warp * EmulationScratchPerWarp,
            CudaAsm.IsSupported ? 0 : EmulationScratchPerWarp);
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bn;
        long batch = Grid.IdxZ;
        long aBase = batch * g.StrideA, bBase = batch * g.StrideB, cBase = batch * g.StrideC;

        if (CudaAsm.IsSupported) CudaAsm.Emit(DeclareAcc);
        Frag4 c00 = default, c01 = default, c02 = default, c03 = default;
        Frag4 c10 = default, c11 = default, c12 = default, c13 = default;
        Frag4 c20 = default, c21 = default, c22 = default, c23 = default;
        Frag4 c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k0 = 0; k0 < g.K; k0 += Bk)
        {
            // Staging: consecutive threads read consecutive global addresses whatever the transpose;
            // out-of-range elements are zero so partial tiles need no masking in the mma loop.
            for (int e = tid; e < Bk * bm; e += threads)
            {
                int mm = g.TransA == 0 ? e / Bk : e % bm;
                int kk = g.TransA == 0 ? e % Bk : e / bm;
                int gm = m0 + mm, gk = k0 + kk;
                float v = 0f;
                if (gm < g.M && gk < g.K)
                    v = g.TransA == 0 ? a[aBase + (long)gm * g.Lda + gk] : a[aBase + (long)gk * g.Lda + gm];
                As[TileIndex(g.TransA, bm, mm, kk)] = RoundTf32(v);
            }
            for (int e = tid; e < Bk * bn; e += threads)
            {
                int nn = g.TransB == 0 ? e % bn : e / Bk;
                int kk = g.TransB == 0 ? e / bn : e % Bk;
                int gn = n0 + nn, gk = k0 + kk;
                float v = 0f;
                if (gn < g.N && gk < g.K)
                    v = g.TransB == 0 ? b[bBase + (long)gk * g.Ldb + gn] : b[bBase + (long)gn * g.Ldb + gk];
                // B is stored n-major like A is m-major: "k-contiguous" is the transposed layout for B.
                Bs[TileIndex(1 - g.TransB, bn, nn, kk)] = RoundTf32(v);
            }
            Group.Barrier();
            for (int kk = 0; kk < Bk; kk += 8)
            {
                var a0 = LoadA(As, g.TransA, bm, mw + 0, kk, gq, tq);
                var a1 = LoadA(As, g.TransA, bm, mw + 16, kk, gq, tq);
                var a2 = LoadA(As, g.TransA, bm, mw + 32, kk, gq, tq);
                var a3 = LoadA(As, g.TransA, bm, mw + 48, kk, gq, tq);
                var b0 = LoadB(Bs, 1 - g.TransB, bn, nw + 0, kk, gq, tq);
                var b1 = LoadB(Bs, 1 - g.TransB, bn, nw + 8, kk, gq, tq);
                var b2 = LoadB(Bs, 1 - g.TransB, bn, nw + 16, kk, gq, tq);
                var b3 = LoadB(Bs, 1 - g.TransB, bn, nw + 24, kk, gq, tq);
                if (!CudaAsm.IsSupported)
                {
                    // Emulation: publish the whole warp's fragments once per k-step (one barrier
                    // pair for 16 mma keeps the CPU accelerator's emulated barriers affordable).
                    Publish(scratch, 0, a0, b0, gq, tq); Publish(scratch, 1, a1, b1, gq, tq);
                    Publish(scratch, 2, a2, b2, gq, tq); Publish(scratch, 3, a3, b3, gq, tq);
                    Group.Barrier();
                }
                c00 = Mma(c00, a0, b0, scratch, 0, 0, gq, tq); c01 = Mma(c01, a0, b1, scratch, 0, 1, gq, tq);
                c02 = Mma(c02, a0, b2, scratch, 0, 2, gq, tq); c03 = Mma(c03, a0, b3, scratch, 0, 3, gq, tq);
                c10 = Mma(c10, a1, b0, scratch, 1, 0, gq, tq); c11 = Mma(c11, a1, b1, scratch, 1, 1, gq, tq);
                c12 = Mma(c12, a1, b2, scratch, 1, 2, gq, tq); c13 = Mma(c13, a1, b3, scratch, 1, 3, gq, tq);
                c20 = Mma(c20, a2, b0, scratch, 2, 0, gq, tq); c21 = Mma(c21, a2, b1, scratch, 2, 1, gq, tq);
                c22 = Mma(c22, a2, b2, scratch, 2, 2, gq, tq); c23 = Mma(c23, a2, b3, scratch, 2, 3, gq, tq);
                c30 = Mma(c30, a3, b0, scratch, 3, 0, gq, tq); c31 = Mma(c31, a3, b1, scratch, 3, 1, gq, tq);
                c32 = Mma(c32, a3, b2, scratch, 3, 2, gq, tq); c33 = Mma(c33, a3, b3, scratch, 3, 3, gq, tq);
                if (!CudaAsm.IsSupported) Group.Barrier();
            }
            Group.Barrier();
        }
        if (CudaAsm.IsSupported)
        {
            c00 = ReadAcc(0); c01 = ReadAcc(1); c02 = ReadAcc(2); c03 = ReadAcc(3);
            c10 = ReadAcc(4); c11 = ReadAcc(5); c12 = ReadAcc(6); c13 = ReadAcc(7);
            c20 = ReadAcc(8); c21 = ReadAcc(9); c22 = ReadAcc(10); c23 = ReadAcc(11);
            c30 = ReadAcc(12); c31 = ReadAcc(13); c32 = ReadAcc(14); c33 = ReadAcc(15);
        }
        int r = m0 + mw + gq, col = n0 + nw + 2 * tq;
        Store(g, c, cBase, r + 0, col, c00); Store(g, c, cBase, r + 0, col + 8, c01);
        Store(g, c, cBase, r + 0, col + 16, c02); Store(g, c, cBase, r + 0, col + 24, c03);
        Store(g, c, cBase, r + 16, col, c10); Store(g, c, cBase, r + 16, col + 8, c11);
        Store(g, c, cBase, r + 16, col + 16, c12); Store(g, c, cBase, r + 16, col + 24, c13);
        Store(g, c, cBase, r + 32, col, c20); Store(g, c, cBase, r + 32, col + 8, c21);
        Store(g, c, cBase, r + 32, col + 16, c22); Store(g, c, cBase, r + 32, col + 24, c23);
        Store(g, c, cBase, r + 48, col, c30); Store(g, c, cBase, r + 48, col + 8, c31);
        Store(g, c, cBase, r + 48, col + 16, c32); Store(g, c, cBase, r + 48, col + 24, c33);
    }

    /// <summary>Shared index of (row, k) in a tile of <paramref name="rows"/> rows: k-contiguous
    /// (kMajor = 0, stride BK+4) or row-contiguous (kMajor = 1, stride rows+8).</summary>
    static int TileIndex(int kMajor, int rows, int row, int k) =>
        kMajor == 0 ? row * (Bk + PadK) + k : k * (rows + PadMN) + row;

    /// <summary>A fragment of the 16x8 tile at rows m.., columns k..: a0 (g, t), a1 (g+8, t),
    /// a2 (g, t+4), a3 (g+8, t+4).</summary>
    static Frag4 LoadA(ArrayView<float> As, int transA, int bm, int m, int k, int gq, int tq) => new()
    {
        X0 = As[TileIndex(transA, bm, m + gq, k + tq)],
        X1 = As[TileIndex(transA, bm, m + gq + 8, k + tq)],
        X2 = As[TileIndex(transA, bm, m + gq, k + tq + 4)],
        X3 = As[TileIndex(transA, bm, m + gq + 8, k + tq + 4)],
    };

    /// <summary>B fragment ("col" layout) of the 8x8 tile at k.., columns n..: b0 (k = t, n = g),
    /// b1 (k = t+4, n = g). Returned in X0, X1.</summary>
    static Frag4 LoadB(ArrayView<float> Bs, int kMajor, int bn, int n, int k, int gq, int tq) => new()
    {
        X0 = Bs[TileIndex(kMajor, bn, n + gq, k + tq)],
        X1 = Bs[TileIndex(kMajor, bn, n + gq, k + tq + 4)],
    };

    /// <summary>d = a b + c for one m16n8k8 tile (A fragment <paramref name="i"/>, B fragment
    /// <paramref name="j"/> of the warp's k-step). a and b hold TF32-rounded floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Frag4 Mma(Frag4 c, Frag4 a, Frag4 b, ArrayView<float> scratch, int i, int j, int gq, int tq)
    {
        if (CudaAsm.IsSupported)
        {
            MmaRegs(i * 4 + j, a, b);
            return c;
        }
        return EmulatedMma(c, scratch, i, j, gq, tq);
    }

    /// <summary>On CUDA the 64 accumulator floats of a lane live in PTX registers tcacc0..63 declared
    /// by the kernel itself (tile t = 4i + j owns tcacc[4t..4t+3]): ILGPU's multi-output EmitRef would
    /// route every mma operand through .local memory, while an Emit with inputs only keeps them in
    /// registers. <see cref="ReadAcc"/> copies a tile out once, for the epilogue.</summary>
    const string DeclareAcc = ".reg .f32 tcacc<64>; mov.f32 tcacc0, 0f00000000; mov.f32 tcacc1, 0f00000000; mov.f32 tcacc2, 0f00000000; mov.f32 tcacc3, 0f00000000; mov.f32 tcacc4, 0f00000000; mov.f32 tcacc5, 0f00000000; mov.f32 tcacc6, 0f00000000; mov.f32 tcacc7, 0f00000000; mov.f32 tcacc8, 0f00000000; mov.f32 tcacc9, 0f00000000; mov.f32 tcacc10, 0f00000000; mov.f32 tcacc11, 0f00000000; mov.f32 tcacc12, 0f00000000; mov.f32 tcacc13, 0f00000000; mov.f32 tcacc14, 0f00000000; mov.f32 tcacc15, 0f00000000; mov.f32 tcacc16, 0f00000000; mov.f32 tcacc17, 0f00000000; mov.f32 tcacc18, 0f00000000; mov.f32 tcacc19, 0f00000000; mov.f32 tcacc20, 0f00000000; mov.f32 tcacc21, 0f00000000; mov.f32 tcacc22, 0f00000000; mov.f32 tcacc23, 0f00000000; mov.f32 tcacc24, 0f00000000; mov.f32 tcacc25, 0f00000000; mov.f32 tcacc26, 0f00000000; mov.f32 tcacc27, 0f00000000; mov.f32 tcacc28, 0f00000000; mov.f32 tcacc29, 0f00000000; mov.f32 tcacc30, 0f00000000; mov.f32 tcacc31, 0f00000000; mov.f32 tcacc32, 0f00000000; mov.f32 tcacc33, 0f00000000; mov.f32 tcacc34, 0f00000000; mov.f32 tcacc35, 0f00000000; mov.f32 tcacc36, 0f00000000; mov.f32 tcacc37, 0f00000000; mov.f32 tcacc38, 0f00000000; mov.f32 tcacc39, 0f00000000; mov.f32 tcacc40, 0f00000000; mov.f32 tcacc41, 0f00000000; mov.f32 tcacc42, 0f00000000; mov.f32 tcacc43, 0f00000000; mov.f32 tcacc44, 0f00000000; mov.f32 tcacc45, 0f00000000; mov.f32 tcacc46, 0f00000000; mov.f32 tcacc47, 0f00000000; mov.f32 tcacc48, 0f00000000; mov.f32 tcacc49, 0f00000000; mov.f32 tcacc50, 0f00000000; mov.f32 tcacc51, 0f00000000; mov.f32 tcacc52, 0f00000000; mov.f32 tcacc53, 0f00000000; mov.f32 tcacc54, 0f00000000; mov.f32 tcacc55, 0f00000000; mov.f32 tcacc56, 0f00000000; mov.f32 tcacc57, 0f00000000; mov.f32 tcacc58, 0f00000000; mov.f32 tcacc59, 0f00000000; mov.f32 tcacc60, 0f00000000; mov.f32 tcacc61, 0f00000000; mov.f32 tcacc62, 0f00000000; mov.f32 tcacc63, 0f00000000;";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MmaRegs(int t, Frag4 a, Frag4 b)
    {
        uint a0 = Interop.FloatAsInt(a.X0), a1 = Interop.FloatAsInt(a.X1), a2 = Interop.FloatAsInt(a.X2), a3 = Interop.FloatAsInt(a.X3);
        uint b0 = Interop.FloatAsInt(b.X0), b1 = Interop.FloatAsInt(b.X1);
        switch (t)
        {
            case 0: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc0, tcacc1, tcacc2, tcacc3}, {%0, %1, %2, %3}, {%4, %5}, {tcacc0, tcacc1, tcacc2, tcacc3};", a0, a1, a2, a3, b0, b1); break;
            case 1: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc4, tcacc5, tcacc6, tcacc7}, {%0, %1, %2, %3}, {%4, %5}, {tcacc4, tcacc5, tcacc6, tcacc7};", a0, a1, a2, a3, b0, b1); break;
            case 2: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc8, tcacc9, tcacc10, tcacc11}, {%0, %1, %2, %3}, {%4, %5}, {tcacc8, tcacc9, tcacc10, tcacc11};", a0, a1, a2, a3, b0, b1); break;
            case 3: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc12, tcacc13, tcacc14, tcacc15}, {%0, %1, %2, %3}, {%4, %5}, {tcacc12, tcacc13, tcacc14, tcacc15};", a0, a1, a2, a3, b0, b1); break;
            case 4: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc16, tcacc17, tcacc18, tcacc19}, {%0, %1, %2, %3}, {%4, %5}, {tcacc16, tcacc17, tcacc18, tcacc19};", a0, a1, a2, a3, b0, b1); break;
            case 5: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc20, tcacc21, tcacc22, tcacc23}, {%0, %1, %2, %3}, {%4, %5}, {tcacc20, tcacc21, tcacc22, tcacc23};", a0, a1, a2, a3, b0, b1); break;
            case 6: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc24, tcacc25, tcacc26, tcacc27}, {%0, %1, %2, %3}, {%4, %5}, {tcacc24, tcacc25, tcacc26, tcacc27};", a0, a1, a2, a3, b0, b1); break;
            case 7: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc28, tcacc29, tcacc30, tcacc31}, {%0, %1, %2, %3}, {%4, %5}, {tcacc28, tcacc29, tcacc30, tcacc31};", a0, a1, a2, a3, b0, b1); break;
            case 8: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc32, tcacc33, tcacc34, tcacc35}, {%0, %1, %2, %3}, {%4, %5}, {tcacc32, tcacc33, tcacc34, tcacc35};", a0, a1, a2, a3, b0, b1); break;
            case 9: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc36, tcacc37, tcacc38, tcacc39}, {%0, %1, %2, %3}, {%4, %5}, {tcacc36, tcacc37, tcacc38, tcacc39};", a0, a1, a2, a3, b0, b1); break;
            case 10: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc40, tcacc41, tcacc42, tcacc43}, {%0, %1, %2, %3}, {%4, %5}, {tcacc40, tcacc41, tcacc42, tcacc43};", a0, a1, a2, a3, b0, b1); break;
            case 11: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc44, tcacc45, tcacc46, tcacc47}, {%0, %1, %2, %3}, {%4, %5}, {tcacc44, tcacc45, tcacc46, tcacc47};", a0, a1, a2, a3, b0, b1); break;
            case 12: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc48, tcacc49, tcacc50, tcacc51}, {%0, %1, %2, %3}, {%4, %5}, {tcacc48, tcacc49, tcacc50, tcacc51};", a0, a1, a2, a3, b0, b1); break;
            case 13: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc52, tcacc53, tcacc54, tcacc55}, {%0, %1, %2, %3}, {%4, %5}, {tcacc52, tcacc53, tcacc54, tcacc55};", a0, a1, a2, a3, b0, b1); break;
            case 14: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc56, tcacc57, tcacc58, tcacc59}, {%0, %1, %2, %3}, {%4, %5}, {tcacc56, tcacc57, tcacc58, tcacc59};", a0, a1, a2, a3, b0, b1); break;
            case 15: CudaAsm.Emit("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {tcacc60, tcacc61, tcacc62, tcacc63}, {%0, %1, %2, %3}, {%4, %5}, {tcacc60, tcacc61, tcacc62, tcacc63};", a0, a1, a2, a3, b0, b1); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Frag4 ReadAcc(int t)
    {
        uint x0 = 0, x1 = 0, x2 = 0, x3 = 0;
        switch (t)
        {
            case 0: CudaAsm.Emit("mov.b32 %0, tcacc0;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc1;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc2;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc3;", out x3); break;
            case 1: CudaAsm.Emit("mov.b32 %0, tcacc4;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc5;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc6;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc7;", out x3); break;
            case 2: CudaAsm.Emit("mov.b32 %0, tcacc8;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc9;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc10;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc11;", out x3); break;
            case 3: CudaAsm.Emit("mov.b32 %0, tcacc12;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc13;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc14;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc15;", out x3); break;
            case 4: CudaAsm.Emit("mov.b32 %0, tcacc16;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc17;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc18;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc19;", out x3); break;
            case 5: CudaAsm.Emit("mov.b32 %0, tcacc20;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc21;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc22;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc23;", out x3); break;
            case 6: CudaAsm.Emit("mov.b32 %0, tcacc24;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc25;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc26;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc27;", out x3); break;
            case 7: CudaAsm.Emit("mov.b32 %0, tcacc28;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc29;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc30;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc31;", out x3); break;
            case 8: CudaAsm.Emit("mov.b32 %0, tcacc32;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc33;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc34;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc35;", out x3); break;
            case 9: CudaAsm.Emit("mov.b32 %0, tcacc36;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc37;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc38;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc39;", out x3); break;
            case 10: CudaAsm.Emit("mov.b32 %0, tcacc40;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc41;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc42;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc43;", out x3); break;
            case 11: CudaAsm.Emit("mov.b32 %0, tcacc44;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc45;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc46;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc47;", out x3); break;
            case 12: CudaAsm.Emit("mov.b32 %0, tcacc48;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc49;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc50;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc51;", out x3); break;
            case 13: CudaAsm.Emit("mov.b32 %0, tcacc52;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc53;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc54;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc55;", out x3); break;
            case 14: CudaAsm.Emit("mov.b32 %0, tcacc56;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc57;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc58;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc59;", out x3); break;
            case 15: CudaAsm.Emit("mov.b32 %0, tcacc60;", out x0); CudaAsm.Emit("mov.b32 %0, tcacc61;", out x1); CudaAsm.Emit("mov.b32 %0, tcacc62;", out x2); CudaAsm.Emit("mov.b32 %0, tcacc63;", out x3); break;
        }
        return new Frag4 { X0 = Interop.IntAsFloat(x0), X1 = Interop.IntAsFloat(x1), X2 = Interop.IntAsFloat(x2), X3 = Interop.IntAsFloat(x3) };
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

public sealed partial class KernelLauncher
{
    /// <summary>TF32 pays off only when the tensor cores have enough work to hide the rounding and the
    /// fixed 128x128 group tile is mostly full: every side at least 256 and 2^28 multiply-adds
    /// (about 645³). Smaller matmuls stay on the fp32 SGEMM.</summary>
    public static bool UseTf32(long m, long n, long k) => m >= 256 && n >= 256 && k >= 256 && m * n * k >= 1L << 28;

    /// <summary>Warps of the TF32 group along (M, N): 2x4 (128x128 tile, 256 threads) on CUDA, or the
    /// largest layout the device's group size allows (2x2 = 128 threads on the CPU test device).</summary>
    public (int WarpsM, int WarpsN) DefaultTf32Warps =>
        MaxGroupSize >= 256 ? (2, 4) : MaxGroupSize >= 128 ? (2, 2) : (1, 1);

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
        Require(wm > 0 && wn > 0 && 32 * wm * wn <= MaxGroupSize, op,
            $"{wm}x{wn} warps need {32 * wm * wn} threads, the device allows {MaxGroupSize} per group");
        string sizes = $"M={m} N={n} K={k} batch={batch}";
        RequireLength(a, (batch - 1) * strideA + (long)((transA ? k : m) - 1) * lda + (transA ? m : k), op + " " + sizes, "A");
        RequireLength(b, (batch - 1) * strideB + (long)((transB ? n : k) - 1) * ldb + (transB ? k : n), op + " " + sizes, "B");
        RequireLength(c, (batch - 1) * strideC + (long)(m - 1) * ldc + n, op + " " + sizes, "C");
        var kernel = Cache.Get("MatMulTf32.Sgemm", acc =>
            acc.LoadStreamKernel<Tf32GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MatMulTf32Kernels.Sgemm));
        var args = new Tf32GemmArgs
        {
            M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc, TransA = transA ? 1 : 0, TransB = transB ? 1 : 0,
            WarpsN = wn, Alpha = alpha, Beta = beta, StrideA = strideA, StrideB = strideB, StrideC = strideC,
        };
        int bm = MatMulTf32Kernels.WarpM * wm, bn = MatMulTf32Kernels.WarpN * wn;
        int shared = MatMulTf32Kernels.TileFloats(bm) + MatMulTf32Kernels.TileFloats(bn);
        if (Accelerator.AcceleratorType != AcceleratorType.Cuda)
            shared += wm * wn * MatMulTf32Kernels.EmulationScratchPerWarp;
        var grid = new Index3D((n + bn - 1) / bn, (m + bm - 1) / bm, batch);
        var config = new KernelConfig(grid, new Index3D(32 * wm * wn, 1, 1), SharedMemoryConfig.RequestDynamic<float>(shared));
        kernel(config, args, c, a, b);
    }

    /// <summary>The matmul the engine should call: the TF32 kernel when <paramref name="allowTf32"/>
    /// (opt-in, like torch's allow_tf32), the device is CUDA and <see cref="UseTf32"/> says the size
    /// is worth it; otherwise the fp32 SGEMM. Returns true when TF32 ran.</summary>
    public bool MatMul(ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, int m, int n, int k,
        bool transA = false, bool transB = false, bool allowTf32 = false, int batch = 1,
        long strideA = 0, long strideB = 0, long strideC = 0)
    {
        bool tf32 = allowTf32 && Accelerator.AcceleratorType == AcceleratorType.Cuda && UseTf32(m, n, k);
        if (tf32) SgemmTf32(c, a, b, m, n, k, transA, transB, batch: batch, strideA: strideA, strideB: strideB, strideC: strideC);
        else Sgemm(c, a, b, m, n, k, transA, transB, batch: batch, strideA: strideA, strideB: strideB, strideC: strideC);
        return tf32;
    }
}
