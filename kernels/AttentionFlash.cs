// FlashAttention-2 style forward for HS, HV <= 64 on CUDA cores in float32 (the fast path of
// KernelLauncher.AttentionForward; the generic kernel in Attention.cs covers other head sizes and
// small devices). A group of 128 threads owns 64 query rows of one (batch, head) and walks the keys in
// blocks of 64: K and V are staged in shared memory, each thread keeps an 8x4 register tile of the
// score block S = Q Kᵀ (rows rg + 8i, keys 4cg..4cg+3 with rg = tid/16, cg = tid%16) and an 8x4 tile
// of O (the same rows, head columns 4cg..4cg+3): two FlashRows4 of four rows each, whose helpers the
// 32-row and wide kernels share. The online softmax needs the row max across the 16 threads of a row
// (warp shuffles, xor 8..1); the row sum stays per thread until the end. P goes
// through shared memory (over the consumed K tile: 48 KB in all, the limit without an opt-in).
// Scores are in log2 units (Q is pre-scaled by scale·log2 e) so every exponential is one exp2.
// Shared rows are 16 float4 slots, XOR-swizzled so the float4 loads of a warp are conflict-free:
// Q and P row r at slot s ^ (r & 7), K row c at slot s ^ ((c >> 2) & 7), V unswizzled.
// Head sizes below 64 (HS of q/k, HV of v/o, which may differ) are zero-padded; T queries walk S
// keys (cross-attention), causal keeps keys ≤ query. Test: dotnet test --filter "FullyQualifiedName~Kernels.Attention";
// bench: nanombpo bench gpu (AttentionFamily).
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Four floats loaded and stored as one 16-byte vector (ld/st .v4.f32).</summary>
public struct Float4
{
    public float X, Y, Z, W;
}

/// <summary>One thread's four query rows (rg + r0 + 8i, i &lt; 4) of a flash tile: score block S (keys
/// 4cg..4cg+3), output O (head columns 4cg..4cg+3), running max M and sum L of the online softmax.
/// A struct of scalars, so ILGPU keeps every field in registers; kernels hold one (32 rows) or two (64).</summary>
public struct FlashRows4
{
    public Float4 S0, S1, S2, S3, O0, O1, O2, O3;
    public float M0, M1, M2, M3, L0, L1, L2, L3;
}

public static partial class AttentionKernels
{
    /// <summary>Tile of the flash forward: query rows and keys per block, padded head size, threads.</summary>
    public const int FlashRows = 64, FlashKeys = 64, FlashHs = 64, FlashThreads = 128;
    const int Slots = FlashHs / 4;
    const float Log2E = 1.4426950408889634f, Ln2 = 0.6931471805599453f;

    /// <summary>Grid (T/64 rounded up, NH, B), 128 threads. Same outputs as <see cref="Forward"/>;
    /// g.Vec = 1 when q, k, v, o rows may be read and written as float4 (16-byte aligned).</summary>
    public static void FlashForward(AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<int> mask /* (B,S), nonzero = key kept */)
    {
        var qs = SharedMemory.Allocate<Float4>(FlashRows * Slots);
        var kps = SharedMemory.Allocate<Float4>(FlashKeys * Slots); // K tile, then P of the same block
        var vs = SharedMemory.Allocate<Float4>(FlashKeys * Slots);
        int tid = Group.IdxX, rg = tid >> 4, cg = tid & 15;
        int q0 = Grid.IdxX * FlashRows, h = Grid.IdxY, b = Grid.IdxZ;
        bool vec = g.Vec != 0;

        StageQuery(g, q, qs, FlashRows, b, h, q0, tid, vec);

        // Rows rg + 8i: i < 4 in lo, 4..7 in hi (rows 32 apart), each updated in that order as one 8-row tile.
        var lo = StartRows(); var hi = StartRows();
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + FlashRows) : g.S;
        int row0 = q0 + rg;
        for (int k0 = 0; k0 < kEnd; k0 += FlashKeys)
        {
            Group.Barrier(); // the previous block's P and V are consumed
            StageKeyValue(g, k, v, kps, vs, b, h, k0, tid, vec);
            Group.Barrier();

            ClearScores(ref lo); ClearScores(ref hi);
            int swK = cg & 7;
            for (int d4 = 0; d4 < Slots; d4++)
            {
                // Keys 4cg+j sit 16 slots apart; query rows rg+8i 128 slots apart: immediate offsets.
                var kv = kps.SubView(cg * 4 * Slots + (d4 ^ swK));
                Float4 ka = kv[0], kb = kv[Slots], kc = kv[2 * Slots], kd = kv[3 * Slots];
                var qv = qs.SubView(rg * Slots + (d4 ^ rg));
                ScoreRows(ref lo, qv, 0, ka, kb, kc, kd);
                ScoreRows(ref hi, qv, 32, ka, kb, kc, kd);
            }

            int c = k0 + 4 * cg;
            if (g.HasMask != 0 || k0 + FlashKeys > g.S || (g.Causal != 0 && k0 + FlashKeys - 1 > q0))
            {
                bool kx = Keep(g, mask, b, c), ky = Keep(g, mask, b, c + 1), kz = Keep(g, mask, b, c + 2), kw = Keep(g, mask, b, c + 3);
                MaskRows(ref lo, row0, c, g.Causal, kx, ky, kz, kw);
                MaskRows(ref hi, row0 + 32, c, g.Causal, kx, ky, kz, kw);
            }
            OnlineRows(ref lo); OnlineRows(ref hi);

            Group.Barrier(); // every thread is done reading K: P may overwrite it
            var pw = kps.SubView(rg * Slots + (cg ^ rg));
            StoreScores(ref lo, pw, 0); StoreScores(ref hi, pw, 32);
            Group.Barrier();

            for (int j4 = 0; j4 < Slots; j4++)
            {
                var vv = vs.SubView(j4 * 4 * Slots + cg);
                Float4 va = vv[0], vb = vv[Slots], vc = vv[2 * Slots], vd = vv[3 * Slots];
                var pv = kps.SubView(rg * Slots + (j4 ^ rg));
                ValueRows(ref lo, pv, 0, va, vb, vc, vd);
                ValueRows(ref hi, pv, 32, va, vb, vc, vd);
            }
        }

        FinishRows(ref lo, g, o, lse, b, h, row0, cg, vec);
        FinishRows(ref hi, g, o, lse, b, h, row0 + 32, cg, vec);
    }

    /// <summary>Stages query rows q0..q0+rows-1 pre-scaled by scale·log2 e (scores in log2 units),
    /// row-swizzled (slot s ^ (r &amp; 7)); zeros past T.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StageQuery(AttentionArgs g, ArrayView<float> q, ArrayView<Float4> qs, int rows, int b, int h, int q0, int tid, bool vec)
    {
        float qScale = g.Scale * Log2E;
        for (int e = tid; e < rows * Slots; e += FlashThreads)
        {
            int r = e >> 4, s = e & 15, t = q0 + r;
            var x = LoadSlot(q, t < g.T ? g.Q(b, h, t) : -1, s, g.HS, vec);
            x.X *= qScale; x.Y *= qScale; x.Z *= qScale; x.W *= qScale;
            qs[r * Slots + (s ^ (r & 7))] = x;
        }
    }

    /// <summary>A tile's running state before the first key block: max -inf, sum and output 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static FlashRows4 StartRows()
    {
        FlashRows4 t = default;
        t.M0 = t.M1 = t.M2 = t.M3 = float.NegativeInfinity;
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ClearScores(ref FlashRows4 t) { t.S0 = default; t.S1 = default; t.S2 = default; t.S3 = default; }

    /// <summary>S += Q rows · keys for one slot d4: qv is the tile's first row at that slot (r0 is 0 or
    /// 32, a compile-time offset, as every row offset below).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ScoreRows(ref FlashRows4 t, ArrayView<Float4> qv, int r0, Float4 ka, Float4 kb, Float4 kc, Float4 kd)
        => Dot4Rows(qv, r0, ka, kb, kc, kd, ref t.S0, ref t.S1, ref t.S2, ref t.S3);

    /// <summary>-inf for masked keys and, when causal, keys after the row (row = the tile's first row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void MaskRows(ref FlashRows4 t, int row, int c, int causal, bool kx, bool ky, bool kz, bool kw)
    {
        Mask(ref t.S0, row, c, causal, kx, ky, kz, kw); Mask(ref t.S1, row + 8, c, causal, kx, ky, kz, kw);
        Mask(ref t.S2, row + 16, c, causal, kx, ky, kz, kw); Mask(ref t.S3, row + 24, c, causal, kx, ky, kz, kw);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void OnlineRows(ref FlashRows4 t)
    {
        Online(ref t.S0, ref t.M0, ref t.L0, ref t.O0); Online(ref t.S1, ref t.M1, ref t.L1, ref t.O1);
        Online(ref t.S2, ref t.M2, ref t.L2, ref t.O2); Online(ref t.S3, ref t.M3, ref t.L3, ref t.O3);
    }

    /// <summary>P (the exponentiated scores) into shared rows r0 + 8i of pw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreScores(ref FlashRows4 t, ArrayView<Float4> pw, int r0) => Store4Rows(pw, r0, t.S0, t.S1, t.S2, t.S3);

    /// <summary>O += P rows · V for one slot j4 (pv as qv in ScoreRows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void ValueRows(ref FlashRows4 t, ArrayView<Float4> pv, int r0, Float4 va, Float4 vb, Float4 vc, Float4 vd)
        => Axpy4Rows(pv, r0, va, vb, vc, vd, ref t.O0, ref t.O1, ref t.O2, ref t.O3);

    /// <summary>x_i += rows[(r0 + 8i)·Slots] · (a, b, c, d), i &lt; 4: one shared operand (four staged rows
    /// of the other side) against a thread's four register rows, as every flash kernel does per slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4Rows(ArrayView<Float4> rows, int r0, Float4 a, Float4 b, Float4 c, Float4 d,
        ref Float4 x0, ref Float4 x1, ref Float4 x2, ref Float4 x3)
    {
        Dot4(ref x0, rows[r0 * Slots], a, b, c, d); Dot4(ref x1, rows[(r0 + 8) * Slots], a, b, c, d);
        Dot4(ref x2, rows[(r0 + 16) * Slots], a, b, c, d); Dot4(ref x3, rows[(r0 + 24) * Slots], a, b, c, d);
    }

    /// <summary>x_i += rows[(r0 + 8i)·Slots] as weights of (a, b, c, d), i &lt; 4 (Axpy4 per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Axpy4Rows(ArrayView<Float4> rows, int r0, Float4 a, Float4 b, Float4 c, Float4 d,
        ref Float4 x0, ref Float4 x1, ref Float4 x2, ref Float4 x3)
    {
        Axpy4(ref x0, rows[r0 * Slots], a, b, c, d); Axpy4(ref x1, rows[(r0 + 8) * Slots], a, b, c, d);
        Axpy4(ref x2, rows[(r0 + 16) * Slots], a, b, c, d); Axpy4(ref x3, rows[(r0 + 24) * Slots], a, b, c, d);
    }

    /// <summary>rows[(r0 + 8i)·Slots] = x_i, i &lt; 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store4Rows(ArrayView<Float4> rows, int r0, Float4 x0, Float4 x1, Float4 x2, Float4 x3)
    {
        rows[r0 * Slots] = x0; rows[(r0 + 8) * Slots] = x1; rows[(r0 + 16) * Slots] = x2; rows[(r0 + 24) * Slots] = x3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void FinishRows(ref FlashRows4 t, AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, int b, int h, int row, int cg, bool vec)
    {
        Finish(g, o, lse, b, h, row, cg, vec, t.O0, t.L0, t.M0); Finish(g, o, lse, b, h, row + 8, cg, vec, t.O1, t.L1, t.M1);
        Finish(g, o, lse, b, h, row + 16, cg, vec, t.O2, t.L2, t.M2); Finish(g, o, lse, b, h, row + 24, cg, vec, t.O3, t.L3, t.M3);
    }

    /// <summary>Stages keys k0..k0+63 into shared memory: K rows column-swizzled (slot s ^ ((r >> 2) & 7)),
    /// V rows plain; zeros past S. Row offsets step by one stride: no 64-bit products per element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StageKeyValue(AttentionArgs g, ArrayView<float> k, ArrayView<float> v, ArrayView<Float4> ks,
        ArrayView<Float4> vs, int b, int h, int k0, int tid, bool vec)
    {
        long kBase = g.K(b, h, k0), vBase = g.V(b, h, k0);
        for (int e = tid; e < FlashKeys * Slots; e += FlashThreads)
        {
            int r = e >> 4, s = e & 15;
            bool ok = k0 + r < g.S;
            ks[r * Slots + (s ^ ((r >> 2) & 7))] = LoadSlot(k, ok ? kBase + (long)r * g.KStrideT : -1, s, g.HS, vec);
            vs[r * Slots + s] = LoadSlot(v, ok ? vBase + (long)r * g.VStrideT : -1, s, g.HV, vec);
        }
    }

    /// <summary>Columns 4s..4s+3 of the row at <paramref name="off"/> (-1: a row past T or S), zero
    /// past the row's <paramref name="hs"/> columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Float4 LoadSlot(ArrayView<float> src, long off, int s, int hs, bool vec)
    {
        Float4 x = default;
        int d = 4 * s;
        if (off < 0 || d >= hs) return x;
        if (vec) return src.Cast<Float4>()[(off >> 2) + s];
        long p = off + d;
        x.X = src[p];
        if (d + 1 < hs) x.Y = src[p + 1];
        if (d + 2 < hs) x.Z = src[p + 2];
        if (d + 3 < hs) x.W = src[p + 3];
        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool Keep(AttentionArgs g, ArrayView<int> mask, int b, int c) =>
        c < g.S && (g.HasMask == 0 || mask[(long)b * g.S + c] != 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Mask(ref Float4 s, int row, int c, int causal, bool kx, bool ky, bool kz, bool kw)
    {
        float ninf = float.NegativeInfinity;
        if (!kx || (causal != 0 && c > row)) s.X = ninf;
        if (!ky || (causal != 0 && c + 1 > row)) s.Y = ninf;
        if (!kz || (causal != 0 && c + 2 > row)) s.Z = ninf;
        if (!kw || (causal != 0 && c + 3 > row)) s.W = ninf;
    }

    /// <summary>s += (q·ka, q·kb, q·kc, q·kd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Dot4(ref Float4 s, Float4 q, Float4 ka, Float4 kb, Float4 kc, Float4 kd)
    {
        s.X += q.X * ka.X; s.Y += q.X * kb.X; s.Z += q.X * kc.X; s.W += q.X * kd.X;
        s.X += q.Y * ka.Y; s.Y += q.Y * kb.Y; s.Z += q.Y * kc.Y; s.W += q.Y * kd.Y;
        s.X += q.Z * ka.Z; s.Y += q.Z * kb.Z; s.Z += q.Z * kc.Z; s.W += q.Z * kd.Z;
        s.X += q.W * ka.W; s.Y += q.W * kb.W; s.Z += q.W * kc.W; s.W += q.W * kd.W;
    }

    /// <summary>o += p.X va + p.Y vb + p.Z vc + p.W vd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Axpy4(ref Float4 o, Float4 p, Float4 va, Float4 vb, Float4 vc, Float4 vd)
    {
        o.X += p.X * va.X; o.Y += p.X * va.Y; o.Z += p.X * va.Z; o.W += p.X * va.W;
        o.X += p.Y * vb.X; o.Y += p.Y * vb.Y; o.Z += p.Y * vb.Z; o.W += p.Y * vb.W;
        o.X += p.Z * vc.X; o.Y += p.Z * vc.Y; o.Z += p.Z * vc.Z; o.W += p.Z * vc.W;
        o.X += p.W * vd.X; o.Y += p.W * vd.Y; o.Z += p.W * vd.Z; o.W += p.W * vd.W;
    }

    /// <summary>Online softmax step for one row: the block max over the row's 16 threads, rescale of
    /// the running sum and output, s replaced by exp2(s - max). A row with no allowed key so far keeps
    /// max -inf and uses 0 in its place, so exp2(-inf - 0) = 0 and no NaN appears.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Online(ref Float4 s, ref float m, ref float l, ref Float4 o)
    {
        float mx = Math.Max(Math.Max(s.X, s.Y), Math.Max(s.Z, s.W));
        mx = Math.Max(mx, Warp.ShuffleXor(mx, 8));
        mx = Math.Max(mx, Warp.ShuffleXor(mx, 4));
        mx = Math.Max(mx, Warp.ShuffleXor(mx, 2));
        mx = Math.Max(mx, Warp.ShuffleXor(mx, 1));
        float mNew = Math.Max(m, mx);
        float mUse = mNew == float.NegativeInfinity ? 0f : mNew;
        float alpha = XMath.Exp2(m - mUse);
        s.X = XMath.Exp2(s.X - mUse); s.Y = XMath.Exp2(s.Y - mUse);
        s.Z = XMath.Exp2(s.Z - mUse); s.W = XMath.Exp2(s.W - mUse);
        l = l * alpha + ((s.X + s.Y) + (s.Z + s.W));
        o.X *= alpha; o.Y *= alpha; o.Z *= alpha; o.W *= alpha;
        m = mNew;
    }

    /// <summary>Sums the row's partial softmax denominators, writes o / l (0 for a row with no
    /// allowed key) and, from the row's first thread, lse = ln(sum exp(score)) (+inf when empty).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Finish(AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, int b, int h, int row, int cg,
        bool vec, Float4 acc, float l, float m)
    {
        l += Warp.ShuffleXor(l, 8);
        l += Warp.ShuffleXor(l, 4);
        l += Warp.ShuffleXor(l, 2);
        l += Warp.ShuffleXor(l, 1);
        if (row >= g.T) return;
        float inv = l > 0f ? 1f / l : 0f;
        acc.X *= inv; acc.Y *= inv; acc.Z *= inv; acc.W *= inv;
        int d = 4 * cg;
        long off = g.O(b, h, row);
        if (d < g.HV)
        {
            if (vec) o.Cast<Float4>()[(off >> 2) + cg] = acc;
            else
            {
                o[off + d] = acc.X;
                if (d + 1 < g.HV) o[off + d + 1] = acc.Y;
                if (d + 2 < g.HV) o[off + d + 2] = acc.Z;
                if (d + 3 < g.HV) o[off + d + 3] = acc.W;
            }
        }
        if (cg == 0) lse[g.Row(b, h, row)] = l > 0f ? (m + XMath.Log2(l)) * Ln2 : float.PositiveInfinity;
    }
}
