// Backward of the fused attention (Attention.cs), FlashAttention-2 style without atomics:
// RowDot computes D = rowsum(dO * O); BackwardQuery (one group per query block) recomputes
// P = exp(q kᵀ scale - lse) block by block and accumulates dq; BackwardKeyValue (one group per key
// block) walks the query blocks and accumulates dk and dv. Deterministic; no T x S global buffer.
// q/k rows have HS columns, v/o/dO rows HV; keys S may differ from queries T (AttentionArgs).
// Generic kernels; with no explicit tile the launcher runs AttentionFlashBackward.cs where it can.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.AttentionKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static partial class AttentionKernels
{
    /// <summary>Floats of dynamic shared memory for the larger of the two generic backward kernels.</summary>
    public static int BackwardSharedFloats(int br, int bc, int hs, int hv) =>
        Math.Max(br * (2 * hs + hv) + bc * (hs + hv) + br * bc + 2 * br, (br + 2 * bc) * (hs + hv) + 2 * br * bc + 2 * br);

    /// <summary>Thread per (b, h, t): dsum[b,h,t] = sum_d dO * O over the HV columns.</summary>
    public static void RowDot(Index1D i, ArrayView<float> dsum /* (B,NH,T) */, ArrayView<float> dout,
        ArrayView<float> o, AttentionArgs g)
    {
        int t = i % g.T, bh = i / g.T, h = bh % g.NH, b = bh / g.NH;
        long off = g.O(b, h, t);
        float acc = 0f;
        for (int d = 0; d < g.HV; d++) acc += dout[off + d] * o[off + d];
        dsum[i] = acc;
    }

    /// <summary>P and dS for the (query r, key j) pair, 0 where not allowed (or lse = +inf).</summary>
    static void Scores(AttentionArgs g, ArrayView<int> mask, int b, int q0, int k0, int r, int j,
        ArrayView<float> qs, ArrayView<float> dos, ArrayView<float> ks, ArrayView<float> vs,
        float lse, float dsum, out float p, out float ds)
    {
        p = 0f; ds = 0f;
        if (!g.Allowed(mask, b, q0 + r, k0 + j)) return;
        int hs = g.HS, hv = g.HV;
        float s = 0f, dp = 0f;
        for (int d = 0; d < hs; d++) s += qs[r * hs + d] * ks[j * hs + d];
        for (int d = 0; d < hv; d++) dp += dos[r * hv + d] * vs[j * hv + d];
        p = XMath.Exp(s * g.Scale - lse);
        ds = p * (dp - dsum);
    }

    /// <summary>Rows r0.. of a (rows, cols) tile from a strided source, zeros past <paramref name="limit"/>.</summary>
    static void LoadTile(ArrayView<float> dst, ArrayView<float> src, int rows, int cols, int r0, int limit,
        long rowBase, int rowStride, int tid, int threads)
    {
        for (int e = tid; e < rows * cols; e += threads)
        {
            int r = e / cols;
            dst[e] = r0 + r < limit ? src[rowBase + (long)r * rowStride + e % cols] : 0f;
        }
    }

    /// <summary>Grid (query blocks, NH, B): dq for Br query rows.</summary>
    public static void BackwardQuery(AttentionArgs g, ArrayView<float> dq, ArrayView<float> dout, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<float> lse, ArrayView<float> dsum, ArrayView<int> mask)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int br = g.Br, bc = g.Bc, hs = g.HS, hv = g.HV;
        var qs = smem.SubView(0, br * hs);
        var dqs = smem.SubView(br * hs, br * hs);
        var dos = smem.SubView(2 * br * hs, br * hv);
        int kAt = br * (2 * hs + hv);
        var ks = smem.SubView(kAt, bc * hs);
        var vs = smem.SubView(kAt + bc * hs, bc * hv);
        int sAt = kAt + bc * (hs + hv);
        var dss = smem.SubView(sAt, br * bc);
        var ls = smem.SubView(sAt + br * bc, br);
        var dl = smem.SubView(sAt + br * bc + br, br);
        int q0 = Grid.IdxX * br, h = Grid.IdxY, b = Grid.IdxZ, tid = Group.IdxX, threads = Group.DimX;
        LoadTile(qs, q, br, hs, q0, g.T, g.Q(b, h, q0), g.QStrideT, tid, threads);
        LoadTile(dos, dout, br, hv, q0, g.T, g.O(b, h, q0), g.OStrideT, tid, threads);
        for (int e = tid; e < br * hs; e += threads) dqs[e] = 0f;
        for (int r = tid; r < br; r += threads)
        {
            int t = q0 + r;
            ls[r] = t < g.T ? lse[g.Row(b, h, t)] : float.PositiveInfinity;
            dl[r] = t < g.T ? dsum[g.Row(b, h, t)] : 0f;
        }
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + br) : g.S;
        for (int k0 = 0; k0 < kEnd; k0 += bc)
        {
            Group.Barrier();
            LoadTile(ks, k, bc, hs, k0, g.S, g.K(b, h, k0), g.KStrideT, tid, threads);
            LoadTile(vs, v, bc, hv, k0, g.S, g.V(b, h, k0), g.VStrideT, tid, threads);
            Group.Barrier();
            for (int e = tid; e < br * bc; e += threads)
            {
                int r = e / bc;
                Scores(g, mask, b, q0, k0, r, e % bc, qs, dos, ks, vs, ls[r], dl[r], out _, out float ds);
                dss[e] = ds;
            }
            Group.Barrier();
            for (int e = tid; e < br * hs; e += threads)
            {
                int r = e / hs, d = e % hs;
                float acc = 0f;
                for (int j = 0; j < bc; j++) acc += dss[r * bc + j] * ks[j * hs + d];
                dqs[e] += acc * g.Scale;
            }
        }
        Group.Barrier();
        for (int e = tid; e < br * hs; e += threads)
        {
            int t = q0 + e / hs;
            if (t < g.T) dq[g.Q(b, h, t) + e % hs] = dqs[e];
        }
    }

    /// <summary>Grid (key blocks, NH, B): dk and dv for Bc keys (0 for keys no query attends to).</summary>
    public static void BackwardKeyValue(AttentionArgs g, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dout,
        ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> lse, ArrayView<float> dsum,
        ArrayView<int> mask)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int br = g.Br, bc = g.Bc, hs = g.HS, hv = g.HV;
        var ks = smem.SubView(0, bc * hs);
        var dks = smem.SubView(bc * hs, bc * hs);
        var vs = smem.SubView(2 * bc * hs, bc * hv);
        var dvs = smem.SubView(2 * bc * hs + bc * hv, bc * hv);
        int qAt = 2 * bc * (hs + hv);
        var qs = smem.SubView(qAt, br * hs);
        var dos = smem.SubView(qAt + br * hs, br * hv);
        int pAt = qAt + br * (hs + hv);
        var ps = smem.SubView(pAt, br * bc);
        var dss = smem.SubView(pAt + br * bc, br * bc);
        var ls = smem.SubView(pAt + 2 * br * bc, br);
        var dl = smem.SubView(pAt + 2 * br * bc + br, br);
        int k0 = Grid.IdxX * bc, h = Grid.IdxY, b = Grid.IdxZ, tid = Group.IdxX, threads = Group.DimX;
        LoadTile(ks, k, bc, hs, k0, g.S, g.K(b, h, k0), g.KStrideT, tid, threads);
        LoadTile(vs, v, bc, hv, k0, g.S, g.V(b, h, k0), g.VStrideT, tid, threads);
        for (int e = tid; e < bc * hs; e += threads) dks[e] = 0f;
        for (int e = tid; e < bc * hv; e += threads) dvs[e] = 0f;
        // Causal: queries before this key block never see it (keys ≤ query, whatever S is).
        int qStart = g.Causal != 0 ? k0 / br * br : 0;
        for (int q0 = qStart; q0 < g.T; q0 += br)
        {
            Group.Barrier();
            LoadTile(qs, q, br, hs, q0, g.T, g.Q(b, h, q0), g.QStrideT, tid, threads);
            LoadTile(dos, dout, br, hv, q0, g.T, g.O(b, h, q0), g.OStrideT, tid, threads);
            for (int r = tid; r < br; r += threads)
            {
                int t = q0 + r;
                ls[r] = t < g.T ? lse[g.Row(b, h, t)] : float.PositiveInfinity;
                dl[r] = t < g.T ? dsum[g.Row(b, h, t)] : 0f;
            }
            Group.Barrier();
            for (int e = tid; e < br * bc; e += threads)
            {
                int r = e / bc;
                Scores(g, mask, b, q0, k0, r, e % bc, qs, dos, ks, vs, ls[r], dl[r], out float p, out float ds);
                ps[e] = p;
                dss[e] = ds;
            }
            Group.Barrier();
            for (int e = tid; e < bc * hs; e += threads)
            {
                int j = e / hs, d = e % hs;
                float acc = 0f;
                for (int r = 0; r < br; r++) acc += dss[r * bc + j] * qs[r * hs + d];
                dks[e] += acc * g.Scale;
            }
            for (int e = tid; e < bc * hv; e += threads)
            {
                int j = e / hv, d = e % hv;
                float acc = 0f;
                for (int r = 0; r < br; r++) acc += ps[r * bc + j] * dos[r * hv + d];
                dvs[e] += acc;
            }
        }
        Group.Barrier();
        for (int e = tid; e < bc * hs; e += threads)
        {
            int t = k0 + e / hs;
            if (t < g.S) dk[g.K(b, h, t) + e % hs] = dks[e];
        }
        for (int e = tid; e < bc * hv; e += threads)
        {
            int t = k0 + e / hv;
            if (t < g.S) dv[g.V(b, h, t) + e % hv] = dvs[e];
        }
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>dq (q layout), dk (k layout), dv (v layout), all overwritten, from dO and the forward's
    /// o and lse. <paramref name="dsum"/> is caller-owned scratch of B*NH*T floats. With no
    /// <paramref name="tile"/> the flash kernels run where available (HS, HV ≤ 64); an explicit tile
    /// forces the generic kernels.</summary>
    public void AttentionBackward(ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dsum,
        ArrayView<float> dout, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        ArrayView<float> lse, ArrayView<int> keyMask, AttentionArgs g, AttentionTile? tile = null)
    {
        const string op = "attention backward";
        bool flash = tile is null && FlashAttentionAvailable(g.HS, g.HV);
        var t = flash ? new AttentionTile(AttentionKernels.FlashBackwardRows, AttentionKernels.FlashKeys, AttentionKernels.FlashThreads)
            : tile ?? DefaultAttentionTile(g.HS, g.HV, backward: true);
        g.Br = t.Br; g.Bc = t.Bc; g.HasMask = keyMask.Length > 0 ? 1 : 0;
        CheckAttention(g, q, k, v, keyMask, op);
        CheckAttention(g, dq, dk, dv, keyMask, op + " (gradients)");
        long needO = g.O(g.B - 1, g.NH - 1, g.T - 1) + g.HV;
        long rows = (long)g.B * g.NH * g.T;
        RequireLength(dout, needO, op, "dO"); RequireLength(o, needO, op, "o");
        RequireLength(lse, rows, op, "lse"); RequireLength(dsum, rows, op, "dsum");
        var mask = keyMask.Length > 0 ? keyMask : DummyMask;
        var rowDot = Cache.Get("Attention.RowDot", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, AttentionArgs>(AttentionKernels.RowDot));
        rowDot((int)rows, dsum, dout, o, g);
        var group = new Index3D(t.Threads, 1, 1);
        if (flash)
        {
            g.Vec = RowsAligned(g, q, k, v, dout) && RowsAligned(g, dq, dk, dv, dout) ? 1 : 0;
            int rb = AttentionKernels.FlashBackwardRows;
            var fq = Cache.Get("Attention.FlashBackwardQuery", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<int>>(AttentionKernels.FlashBackwardQuery));
            fq(new KernelConfig(new Index3D((g.T + rb - 1) / rb, g.NH, g.B), group), g, dq, dout, q, k, v, lse, dsum, mask);
            var fkv = Cache.Get("Attention.FlashBackwardKeyValue", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<int>>(AttentionKernels.FlashBackwardKeyValue));
            fkv(new KernelConfig(new Index3D((g.S + rb - 1) / rb, g.NH, g.B), group), g, dk, dv, dout, q, k, v, lse, dsum, mask);
            return;
        }
        var smem = SharedMemoryConfig.RequestDynamic<float>(AttentionKernels.BackwardSharedFloats(t.Br, t.Bc, g.HS, g.HV));
        var kq = Cache.Get("Attention.BackwardQuery", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<int>>(AttentionKernels.BackwardQuery));
        kq(new KernelConfig(new Index3D((g.T + t.Br - 1) / t.Br, g.NH, g.B), group, smem), g, dq, dout, q, k, v, lse, dsum, mask);
        var kkv = Cache.Get("Attention.BackwardKeyValue", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<int>>(AttentionKernels.BackwardKeyValue));
        kkv(new KernelConfig(new Index3D((g.S + t.Bc - 1) / t.Bc, g.NH, g.B), group, smem), g, dk, dv, dout, q, k, v, lse, dsum, mask);
    }
}
