// FlashAttention-2 style backward for HS, HV <= 64 on CUDA cores in float32 (the fast path of
// KernelLauncher.AttentionBackward; AttentionBackward.cs keeps the generic kernels). Same tiling as
// AttentionFlash.cs, 128 threads, register tiles of 4 rows (rg + 8i) x 4 columns (4cg..4cg+3):
// - FlashBackwardQuery: 32 query rows per group walk the key blocks of 64; S = Q Kᵀ and dP = dO Vᵀ
//   in registers, P = exp2(S - lse), dS = P (dP - D) goes to shared memory over the consumed V
//   tile, dQ += dS K.
// - FlashBackwardKeyValue: 32 keys per group walk the query blocks of 64; Sᵀ = K Qᵀ, dPᵀ = V dOᵀ,
//   Pᵀ and dSᵀ go to shared memory over K and V (reloaded per block), dV += Pᵀ dO, dK += dSᵀ Q.
// Shared memory: 2 tiles of 32 rows + 2 of 64 rows of 16 float4 = 48 KB; swizzles as in the forward
// ("row" operands slot ^ (r & 7), "column" operands slot ^ ((c >> 2) & 7)). Deterministic, no atomics.
// HS (q, k) and HV (v, o, dO) are zero-padded to 64 and may differ; queries T, keys S.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.Attention".
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static partial class AttentionKernels
{
    /// <summary>Rows owned by one group of a flash backward kernel (queries for dQ, keys for dK/dV).</summary>
    public const int FlashBackwardRows = 32;
    const int BRows = FlashBackwardRows, BCols = 64;

    /// <summary>Grid (T/32 rounded up, NH, B), 128 threads: dq (q layout, overwritten).</summary>
    public static void FlashBackwardQuery(AttentionArgs g, ArrayView<float> dq, ArrayView<float> dout, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<float> lse, ArrayView<float> dsum, ArrayView<int> mask)
    {
        var qs = SharedMemory.Allocate<Float4>(BRows * Slots);
        var dos = SharedMemory.Allocate<Float4>(BRows * Slots);
        var ks = SharedMemory.Allocate<Float4>(BCols * Slots);
        var vds = SharedMemory.Allocate<Float4>(BCols * Slots); // V tile, then dS of the same block
        int tid = Group.IdxX, rg = tid >> 4, cg = tid & 15;
        int q0 = Grid.IdxX * BRows, h = Grid.IdxY, b = Grid.IdxZ;
        bool vec = g.Vec != 0;
        float qScale = g.Scale * Log2E;
        for (int e = tid; e < BRows * Slots; e += FlashThreads)
        {
            int r = e >> 4, s = e & 15, t = q0 + r;
            var x = LoadSlot(q, t < g.T ? g.Q(b, h, t) : -1, s, g.HS, vec);
            x.X *= qScale; x.Y *= qScale; x.Z *= qScale; x.W *= qScale;
            qs[r * Slots + (s ^ (r & 7))] = x;
            dos[r * Slots + (s ^ (r & 7))] = LoadSlot(dout, t < g.T ? g.O(b, h, t) : -1, s, g.HV, vec);
        }
        int row0 = q0 + rg;
        RowStats(g, lse, dsum, b, h, row0, out float lse0, out float d0);
        RowStats(g, lse, dsum, b, h, row0 + 8, out float lse1, out float d1);
        RowStats(g, lse, dsum, b, h, row0 + 16, out float lse2, out float d2);
        RowStats(g, lse, dsum, b, h, row0 + 24, out float lse3, out float d3);
        Float4 a0 = default, a1 = default, a2 = default, a3 = default;
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + BRows) : g.S;
        for (int k0 = 0; k0 < kEnd; k0 += BCols)
        {
            Group.Barrier();
            long kBase = g.K(b, h, k0), vBase = g.V(b, h, k0);
            for (int e = tid; e < BCols * Slots; e += FlashThreads)
            {
                int r = e >> 4, s = e & 15;
                bool ok = k0 + r < g.S;
                ks[r * Slots + (s ^ ((r >> 2) & 7))] = LoadSlot(k, ok ? kBase + (long)r * g.KStrideT : -1, s, g.HS, vec);
                vds[r * Slots + (s ^ ((r >> 2) & 7))] = LoadSlot(v, ok ? vBase + (long)r * g.VStrideT : -1, s, g.HV, vec);
            }
            Group.Barrier();
            Float4 s0 = default, s1 = default, s2 = default, s3 = default;
            Float4 p0 = default, p1 = default, p2 = default, p3 = default;
            int swC = cg & 7;
            for (int d4 = 0; d4 < Slots; d4++)
            {
                var kv = ks.SubView(cg * 4 * Slots + (d4 ^ swC));
                Float4 ka = kv[0], kb = kv[Slots], kc = kv[2 * Slots], kd = kv[3 * Slots];
                var qv = qs.SubView(rg * Slots + (d4 ^ rg));
                Dot4Rows(qv, 0, ka, kb, kc, kd, ref s0, ref s1, ref s2, ref s3);
                var vv = vds.SubView(cg * 4 * Slots + (d4 ^ swC));
                Float4 va = vv[0], vb = vv[Slots], vc = vv[2 * Slots], vd = vv[3 * Slots];
                var ov = dos.SubView(rg * Slots + (d4 ^ rg));
                Dot4Rows(ov, 0, va, vb, vc, vd, ref p0, ref p1, ref p2, ref p3);
            }
            int c = k0 + 4 * cg;
            bool kx = Keep(g, mask, b, c), ky = Keep(g, mask, b, c + 1), kz = Keep(g, mask, b, c + 2), kw = Keep(g, mask, b, c + 3);
            GradScores(ref s0, p0, row0, c, g.Causal, kx, ky, kz, kw, lse0, d0);
            GradScores(ref s1, p1, row0 + 8, c, g.Causal, kx, ky, kz, kw, lse1, d1);
            GradScores(ref s2, p2, row0 + 16, c, g.Causal, kx, ky, kz, kw, lse2, d2);
            GradScores(ref s3, p3, row0 + 24, c, g.Causal, kx, ky, kz, kw, lse3, d3);
            Group.Barrier(); // V is consumed: dS takes its place
            var dw = vds.SubView(rg * Slots + (cg ^ rg));
            Store4Rows(dw, 0, s0, s1, s2, s3);
            Group.Barrier();
            for (int j4 = 0; j4 < Slots; j4++)
            {
                // K rows 4 j4 + jj read as the "V" operand: slot cg of a column-swizzled row.
                var kv = ks.SubView(j4 * 4 * Slots + (cg ^ (j4 & 7)));
                Float4 ka = kv[0], kb = kv[Slots], kc = kv[2 * Slots], kd = kv[3 * Slots];
                var sv = vds.SubView(rg * Slots + (j4 ^ rg));
                Axpy4Rows(sv, 0, ka, kb, kc, kd, ref a0, ref a1, ref a2, ref a3);
            }
        }
        StoreRow(dq, row0 < g.T ? g.Q(b, h, row0) : -1, cg, g.HS, vec, a0, g.Scale);
        StoreRow(dq, row0 + 8 < g.T ? g.Q(b, h, row0 + 8) : -1, cg, g.HS, vec, a1, g.Scale);
        StoreRow(dq, row0 + 16 < g.T ? g.Q(b, h, row0 + 16) : -1, cg, g.HS, vec, a2, g.Scale);
        StoreRow(dq, row0 + 24 < g.T ? g.Q(b, h, row0 + 24) : -1, cg, g.HS, vec, a3, g.Scale);
    }

    /// <summary>Grid (S/32 rounded up, NH, B), 128 threads: dk and dv (k and v layouts, overwritten;
    /// 0 for keys no query attends to).</summary>
    public static void FlashBackwardKeyValue(AttentionArgs g, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dout,
        ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> lse, ArrayView<float> dsum,
        ArrayView<int> mask)
    {
        var ks = SharedMemory.Allocate<Float4>(BRows * Slots);  // K, then Pᵀ
        var vs = SharedMemory.Allocate<Float4>(BRows * Slots);  // V, then dSᵀ
        var qs = SharedMemory.Allocate<Float4>(BCols * Slots);
        var dos = SharedMemory.Allocate<Float4>(BCols * Slots);
        int tid = Group.IdxX, rg = tid >> 4, cg = tid & 15;
        int k0 = Grid.IdxX * BRows, h = Grid.IdxY, b = Grid.IdxZ;
        bool vec = g.Vec != 0;
        float kScale = g.Scale * Log2E;
        int key0 = k0 + rg;
        bool keep0 = Keep(g, mask, b, key0), keep1 = Keep(g, mask, b, key0 + 8);
        bool keep2 = Keep(g, mask, b, key0 + 16), keep3 = Keep(g, mask, b, key0 + 24);
        Float4 dv0 = default, dv1 = default, dv2 = default, dv3 = default;
        Float4 dk0 = default, dk1 = default, dk2 = default, dk3 = default;
        int qStart = g.Causal != 0 ? k0 / BCols * BCols : 0;
        for (int q0 = qStart; q0 < g.T; q0 += BCols)
        {
            Group.Barrier(); // the previous block's Pᵀ, dSᵀ, Q and dO are consumed
            for (int e = tid; e < BRows * Slots; e += FlashThreads)
            {
                int r = e >> 4, s = e & 15, t = k0 + r;
                bool ok = t < g.S;
                var x = LoadSlot(k, ok ? g.K(b, h, t) : -1, s, g.HS, vec);
                x.X *= kScale; x.Y *= kScale; x.Z *= kScale; x.W *= kScale;
                ks[r * Slots + (s ^ (r & 7))] = x;
                vs[r * Slots + (s ^ (r & 7))] = LoadSlot(v, ok ? g.V(b, h, t) : -1, s, g.HV, vec);
            }
            long qBase = g.Q(b, h, q0), oBase = g.O(b, h, q0);
            for (int e = tid; e < BCols * Slots; e += FlashThreads)
            {
                int r = e >> 4, s = e & 15, t = q0 + r;
                bool ok = t < g.T;
                qs[r * Slots + (s ^ ((r >> 2) & 7))] = LoadSlot(q, ok ? qBase + (long)r * g.QStrideT : -1, s, g.HS, vec);
                dos[r * Slots + (s ^ ((r >> 2) & 7))] = LoadSlot(dout, ok ? oBase + (long)r * g.OStrideT : -1, s, g.HV, vec);
            }
            int c = q0 + 4 * cg; // this thread's 4 queries
            RowStats(g, lse, dsum, b, h, c, out float lx, out float dx);
            RowStats(g, lse, dsum, b, h, c + 1, out float ly, out float dy);
            RowStats(g, lse, dsum, b, h, c + 2, out float lz, out float dz);
            RowStats(g, lse, dsum, b, h, c + 3, out float lw, out float dw);
            Group.Barrier();
            Float4 s0 = default, s1 = default, s2 = default, s3 = default;
            Float4 p0 = default, p1 = default, p2 = default, p3 = default;
            int swC = cg & 7;
            for (int d4 = 0; d4 < Slots; d4++)
            {
                var qv = qs.SubView(cg * 4 * Slots + (d4 ^ swC));
                Float4 qa = qv[0], qb = qv[Slots], qc = qv[2 * Slots], qd = qv[3 * Slots];
                var kv = ks.SubView(rg * Slots + (d4 ^ rg));
                Dot4Rows(kv, 0, qa, qb, qc, qd, ref s0, ref s1, ref s2, ref s3);
                var ov = dos.SubView(cg * 4 * Slots + (d4 ^ swC));
                Float4 oa = ov[0], ob = ov[Slots], oc = ov[2 * Slots], od = ov[3 * Slots];
                var vv = vs.SubView(rg * Slots + (d4 ^ rg));
                Dot4Rows(vv, 0, oa, ob, oc, od, ref p0, ref p1, ref p2, ref p3);
            }
            // Sᵀ rows are keys, columns queries: p = exp2(s - lse_query), ds = p (dp - D_query).
            GradScoresT(ref s0, ref p0, key0, c, g, keep0, lx, ly, lz, lw, dx, dy, dz, dw);
            GradScoresT(ref s1, ref p1, key0 + 8, c, g, keep1, lx, ly, lz, lw, dx, dy, dz, dw);
            GradScoresT(ref s2, ref p2, key0 + 16, c, g, keep2, lx, ly, lz, lw, dx, dy, dz, dw);
            GradScoresT(ref s3, ref p3, key0 + 24, c, g, keep3, lx, ly, lz, lw, dx, dy, dz, dw);
            Group.Barrier(); // K and V are consumed: Pᵀ and dSᵀ take their places
            var pw = ks.SubView(rg * Slots + (cg ^ rg));
            Store4Rows(pw, 0, s0, s1, s2, s3);
            var sw = vs.SubView(rg * Slots + (cg ^ rg));
            Store4Rows(sw, 0, p0, p1, p2, p3);
            Group.Barrier();
            for (int j4 = 0; j4 < Slots; j4++)
            {
                var ov = dos.SubView(j4 * 4 * Slots + (cg ^ (j4 & 7)));
                Float4 oa = ov[0], ob = ov[Slots], oc = ov[2 * Slots], od = ov[3 * Slots];
                var pv = ks.SubView(rg * Slots + (j4 ^ rg));
                Axpy4Rows(pv, 0, oa, ob, oc, od, ref dv0, ref dv1, ref dv2, ref dv3);
                var qv = qs.SubView(j4 * 4 * Slots + (cg ^ (j4 & 7)));
                Float4 qa = qv[0], qb = qv[Slots], qc = qv[2 * Slots], qd = qv[3 * Slots];
                var sv = vs.SubView(rg * Slots + (j4 ^ rg));
                Axpy4Rows(sv, 0, qa, qb, qc, qd, ref dk0, ref dk1, ref dk2, ref dk3);
            }
        }
        StoreRow(dv, key0 < g.S ? g.V(b, h, key0) : -1, cg, g.HV, vec, dv0, 1f);
        StoreRow(dv, key0 + 8 < g.S ? g.V(b, h, key0 + 8) : -1, cg, g.HV, vec, dv1, 1f);
        StoreRow(dv, key0 + 16 < g.S ? g.V(b, h, key0 + 16) : -1, cg, g.HV, vec, dv2, 1f);
        StoreRow(dv, key0 + 24 < g.S ? g.V(b, h, key0 + 24) : -1, cg, g.HV, vec, dv3, 1f);
        StoreRow(dk, key0 < g.S ? g.K(b, h, key0) : -1, cg, g.HS, vec, dk0, g.Scale);
        StoreRow(dk, key0 + 8 < g.S ? g.K(b, h, key0 + 8) : -1, cg, g.HS, vec, dk1, g.Scale);
        StoreRow(dk, key0 + 16 < g.S ? g.K(b, h, key0 + 16) : -1, cg, g.HS, vec, dk2, g.Scale);
        StoreRow(dk, key0 + 24 < g.S ? g.K(b, h, key0 + 24) : -1, cg, g.HS, vec, dk3, g.Scale);
    }

    /// <summary>lse in log2 units (+inf past T or for an empty row: its p is 0) and D of one row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RowStats(AttentionArgs g, ArrayView<float> lse, ArrayView<float> dsum, int b, int h, int row,
        out float lse2, out float d)
    {
        bool ok = row < g.T;
        lse2 = ok ? lse[g.Row(b, h, row)] * Log2E : float.PositiveInfinity;
        d = ok ? dsum[g.Row(b, h, row)] : 0f;
    }

    /// <summary>Query-row tile: s (scores, log2 units) becomes dS = P (dP - D), 0 where not allowed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradScores(ref Float4 s, Float4 dp, int row, int c, int causal, bool kx, bool ky, bool kz, bool kw,
        float lse2, float d)
    {
        s.X = kx && (causal == 0 || c <= row) ? XMath.Exp2(s.X - lse2) * (dp.X - d) : 0f;
        s.Y = ky && (causal == 0 || c + 1 <= row) ? XMath.Exp2(s.Y - lse2) * (dp.Y - d) : 0f;
        s.Z = kz && (causal == 0 || c + 2 <= row) ? XMath.Exp2(s.Z - lse2) * (dp.Z - d) : 0f;
        s.W = kw && (causal == 0 || c + 3 <= row) ? XMath.Exp2(s.W - lse2) * (dp.W - d) : 0f;
    }

    /// <summary>Key-row tile (columns are queries c..c+3): s becomes Pᵀ and dp becomes dSᵀ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void GradScoresT(ref Float4 s, ref Float4 dp, int key, int c, AttentionArgs g, bool keep,
        float lx, float ly, float lz, float lw, float dx, float dy, float dz, float dw)
    {
        bool causal = g.Causal != 0;
        s.X = keep && (!causal || key <= c) ? XMath.Exp2(s.X - lx) : 0f;
        s.Y = keep && (!causal || key <= c + 1) ? XMath.Exp2(s.Y - ly) : 0f;
        s.Z = keep && (!causal || key <= c + 2) ? XMath.Exp2(s.Z - lz) : 0f;
        s.W = keep && (!causal || key <= c + 3) ? XMath.Exp2(s.W - lw) : 0f;
        dp.X = s.X * (dp.X - dx); dp.Y = s.Y * (dp.Y - dy); dp.Z = s.Z * (dp.Z - dz); dp.W = s.W * (dp.W - dw);
    }

    /// <summary>Writes columns 4cg..4cg+3 (of <paramref name="cols"/>) of the row at
    /// <paramref name="off"/> (-1: no row), times <paramref name="scale"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(ArrayView<float> dst, long off, int cg, int cols, bool vec, Float4 x, float scale)
    {
        int d = 4 * cg;
        if (off < 0 || d >= cols) return;
        x.X *= scale; x.Y *= scale; x.Z *= scale; x.W *= scale;
        if (vec) { dst.Cast<Float4>()[(off >> 2) + cg] = x; return; }
        dst[off + d] = x.X;
        if (d + 1 < cols) dst[off + d + 1] = x.Y;
        if (d + 2 < cols) dst[off + d + 2] = x.Z;
        if (d + 3 < cols) dst[off + d + 3] = x.W;
    }
}
