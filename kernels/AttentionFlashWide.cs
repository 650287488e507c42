// Flash attention forward for head sizes 65..128 (HS of q/k and HV of v/o each ≤ 128): the same
// 64-column machinery as AttentionFlash.cs applied per 64-column half, so the inner loops, swizzles
// and register tiles are those of the HS ≤ 64 kernels and nothing spills. A group of 128 threads
// owns 32 query rows (Q staged once as two 32x64 halves); per block of 64 keys it stages K's column
// halves one after the other into one 64x64 buffer and sums S = Q0 K0ᵀ + Q1 K1ᵀ in a 4x4 register
// tile per thread (rows rg + 8i, keys 4cg..4cg+3), applies the online softmax, writes P to its own
// buffer, then stages V's halves into the same buffer for O_lo += P V0 and O_hi += P V1 (two 4x4
// tiles: head columns 4cg.. and 64 + 4cg..). Shared memory 16 + 16 + 8 = 40 KB; 6 barriers a block
// (staging is not overlapped within the group; other resident groups cover it).
// The backward of these head sizes runs the generic kernels (AttentionBackward.cs).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.AttentionKernelTests" (Wide cases).
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static partial class AttentionKernels
{
    /// <summary>Largest head size (HS and HV) of <see cref="FlashForwardWide"/>.</summary>
    public const int FlashWideHs = 128;

    /// <summary>Grid (T/32 rounded up, NH, B), 128 threads. Same outputs as <see cref="Forward"/>.</summary>
    public static void FlashForwardWide(AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<int> mask /* (B,S), nonzero = key kept */)
    {
        const int Rows = FlashSmallRows;
        var qs = SharedMemory.Allocate<Float4>(2 * Rows * Slots); // column half 0, then half 1
        var kv = SharedMemory.Allocate<Float4>(FlashKeys * Slots); // K half, then V half
        var ps = SharedMemory.Allocate<Float4>(Rows * Slots);
        int tid = Group.IdxX, rg = tid >> 4, cg = tid & 15;
        int q0 = Grid.IdxX * Rows, h = Grid.IdxY, b = Grid.IdxZ;
        bool vec = g.Vec != 0, wideK = g.HS > FlashHs, wideV = g.HV > FlashHs;

        float qScale = g.Scale * Log2E;
        for (int e = tid; e < 2 * Rows * Slots; e += FlashThreads)
        {
            int hf = e >> 9, r = (e >> 4) & (Rows - 1), s = e & 15, t = q0 + r;
            long off = t < g.T ? g.Q(b, h, t) + hf * FlashHs : -1;
            var x = LoadSlot(q, off, s, g.HS - hf * FlashHs, vec);
            x.X *= qScale; x.Y *= qScale; x.Z *= qScale; x.W *= qScale;
            qs[hf * Rows * Slots + r * Slots + (s ^ (r & 7))] = x;
        }

        var tile = StartRows();  // its O holds head columns 4cg..4cg+3
        Float4 z0 = default, z1 = default, z2 = default, z3 = default; // O columns 64+4cg..
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + Rows) : g.S;
        int row0 = q0 + rg;
        for (int k0 = 0; k0 < kEnd; k0 += FlashKeys)
        {
            ClearScores(ref tile);
            Group.Barrier(); // the previous block's V half 1 is consumed
            StageHalf(g, k, kv, b, h, k0, 0, g.KStrideT, g.HS, true, tid, vec);
            Group.Barrier();
            ScoreBlock(ref tile, kv, qs, rg, cg);
            if (wideK)
            {
                Group.Barrier();
                StageHalf(g, k, kv, b, h, k0, 1, g.KStrideT, g.HS, true, tid, vec);
                Group.Barrier();
                ScoreBlock(ref tile, kv, qs.SubView(Rows * Slots), rg, cg);
            }

            int c = k0 + 4 * cg;
            if (g.HasMask != 0 || k0 + FlashKeys > g.S || (g.Causal != 0 && k0 + FlashKeys - 1 > q0))
                MaskRows(ref tile, row0, c, g.Causal, Keep(g, mask, b, c), Keep(g, mask, b, c + 1), Keep(g, mask, b, c + 2), Keep(g, mask, b, c + 3));
            // Online rescales one accumulator; the second half gets the same factor from m's change.
            float n0 = tile.M0, n1 = tile.M1, n2 = tile.M2, n3 = tile.M3;
            OnlineRows(ref tile);
            Rescale(ref z0, n0, tile.M0); Rescale(ref z1, n1, tile.M1); Rescale(ref z2, n2, tile.M2); Rescale(ref z3, n3, tile.M3);

            StoreScores(ref tile, ps.SubView(rg * Slots + (cg ^ rg)), 0);
            Group.Barrier(); // K is consumed and P is written: V half 0 may take K's place
            StageHalf(g, v, kv, b, h, k0, 0, g.VStrideT, g.HV, false, tid, vec);
            Group.Barrier();
            ValueBlock(ref tile.O0, ref tile.O1, ref tile.O2, ref tile.O3, kv, ps, rg, cg);
            if (wideV)
            {
                Group.Barrier();
                StageHalf(g, v, kv, b, h, k0, 1, g.VStrideT, g.HV, false, tid, vec);
                Group.Barrier();
                ValueBlock(ref z0, ref z1, ref z2, ref z3, kv, ps, rg, cg);
            }
        }

        FinishWide(g, o, lse, b, h, row0, cg, vec, tile.O0, z0, tile.L0, tile.M0); FinishWide(g, o, lse, b, h, row0 + 8, cg, vec, tile.O1, z1, tile.L1, tile.M1);
        FinishWide(g, o, lse, b, h, row0 + 16, cg, vec, tile.O2, z2, tile.L2, tile.M2); FinishWide(g, o, lse, b, h, row0 + 24, cg, vec, tile.O3, z3, tile.L3, tile.M3);
    }

    /// <summary>Stages columns 64·hf..64·hf+63 of keys k0..k0+63 (K: column-swizzled; V: plain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StageHalf(AttentionArgs g, ArrayView<float> src, ArrayView<Float4> dst, int b, int h, int k0, int hf,
        int strideT, int cols, bool isK, int tid, bool vec)
    {
        long rowBase = (isK ? g.K(b, h, k0) : g.V(b, h, k0)) + hf * FlashHs;
        int left = cols - hf * FlashHs;
        for (int e = tid; e < FlashKeys * Slots; e += FlashThreads)
        {
            int r = e >> 4, s = e & 15;
            var x = LoadSlot(src, k0 + r < g.S ? rowBase + (long)r * strideT : -1, s, left, vec);
            dst[r * Slots + (isK ? s ^ ((r >> 2) & 7) : s)] = x;
        }
    }

    /// <summary>S += Q rows (rg + 8i) · K rows 4cg..4cg+3 over one staged 64-column block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ScoreBlock(ref FlashRows4 t, ArrayView<Float4> ks, ArrayView<Float4> qs, int rg, int cg)
    {
        int swK = cg & 7;
        for (int d4 = 0; d4 < Slots; d4++)
        {
            var kv = ks.SubView(cg * 4 * Slots + (d4 ^ swK));
            Float4 ka = kv[0], kb = kv[Slots], kc = kv[2 * Slots], kd = kv[3 * Slots];
            ScoreRows(ref t, qs.SubView(rg * Slots + (d4 ^ rg)), 0, ka, kb, kc, kd);
        }
    }

    /// <summary>o_i += P rows (rg + 8i) · V (64 keys x columns 4cg..4cg+3 of the staged block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ValueBlock(ref Float4 o0, ref Float4 o1, ref Float4 o2, ref Float4 o3, ArrayView<Float4> vs, ArrayView<Float4> ps, int rg, int cg)
    {
        for (int j4 = 0; j4 < Slots; j4++)
        {
            var vv = vs.SubView(j4 * 4 * Slots + cg);
            Float4 va = vv[0], vb = vv[Slots], vc = vv[2 * Slots], vd = vv[3 * Slots];
            Axpy4Rows(ps.SubView(rg * Slots + (j4 ^ rg)), 0, va, vb, vc, vd, ref o0, ref o1, ref o2, ref o3);
        }
    }

    /// <summary>o *= exp2(mOld - mNew), the factor Online applied to the first half (1 while the
    /// row has no allowed key: both maxima are then -inf).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Rescale(ref Float4 o, float mOld, float mNew)
    {
        float alpha = XMath.Exp2(mOld - (mNew == float.NegativeInfinity ? 0f : mNew));
        o.X *= alpha; o.Y *= alpha; o.Z *= alpha; o.W *= alpha;
    }

    /// <summary>Finish for both column halves: o / l into columns 4cg.. and 64 + 4cg.., and lse.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void FinishWide(AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, int b, int h, int row, int cg,
        bool vec, Float4 lo, Float4 hi, float l, float m)
    {
        Finish(g, o, lse, b, h, row, cg, vec, lo, l, m);
        l += Warp.ShuffleXor(l, 8);
        l += Warp.ShuffleXor(l, 4);
        l += Warp.ShuffleXor(l, 2);
        l += Warp.ShuffleXor(l, 1);
        long off = row < g.T ? g.O(b, h, row) + FlashHs : -1;
        StoreRow(o, off, cg, g.HV - FlashHs, vec, hi, l > 0f ? 1f / l : 0f);
    }
}
