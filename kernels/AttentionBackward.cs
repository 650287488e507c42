// Backward of the fused attention (Attention.cs), FlashAttention-2 style without atomics:
// RowDot computes D = rowsum(dO * O); BackwardQuery (one group per query block) recomputes
// P = exp(q kᵀ scale - lse) block by block and accumulates dq; BackwardKeyValue (one group per key
// block) walks the query blocks and accumulates dk and dv. Deterministic; no T x T global buffer.
// Generic kernels; with no explicit tile the launcher runs AttentionFlashBackward.cs where it can.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.AttentionKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static partial class AttentionKernels
{
    public static int BackwardSharedFloats(int br, int bc, int hs) =>
        Math.Max(3 * br * hs + 2 * bc * hs + br * bc + 2 * br, 2 * br * hs + 4 * bc * hs + 2 * br * bc + 2 * br);

    /// <summary>Thread per (b, h, t): dsum[b,h,t] = sum_d dO * O.</summary>
    public static void RowDot(Index1D i, ArrayView<float> dsum /* (B,NH,T) */, ArrayView<float> dout,
        ArrayView<float> o, AttentionArgs g)
    {
        int t = i % g.T, bh = i / g.T, h = bh % g.NH, b = bh / g.NH;
        long off = g.O(b, h, t);
        float acc = 0f;
        for (int d = 0; d < g.HS; d++) acc += dout[off + d] * o[off + d];
        dsum[i] = acc;
    }

    /// <summary>P and dS for the (query r, key j) pair, 0 where not allowed (or lse = +inf).</summary>
    static void Scores(AttentionArgs g, ArrayView<int> mask, int b, int q0, int k0, int r, int j,
        ArrayView<float> qs, ArrayView<float> dos, ArrayView<float> ks, ArrayView<float> vs,
        float lse, float dsum, out float p, out float ds)
    {
        p = 0f; ds = 0f;
        if (!g.Allowed(mask, b, q0 + r, k0 + j)) return;
        int hs = g.HS;
        float s = 0f, dp = 0f;
        for (int d = 0; d < hs; d++)
        {
            s += qs[r * hs + d] * ks[j * hs + d];
            dp += dos[r * hs + d] * vs[j * hs + d];
        }
        p = XMath.Exp(s * g.Scale - lse);
        ds = p * (dp - dsum);
    }

    /// <summary>Grid (query blocks, NH, B): dq for Br query rows.</summary>
    public static void BackwardQuery(AttentionArgs g, ArrayView<float> dq, ArrayView<float> dout, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<float> lse, ArrayView<float> dsum, ArrayView<int> mask)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int br = g.Br, bc = g.Bc, hs = g.HS;
        var qs = smem.SubView(0, br * hs);
        var dos = smem.SubView(br * hs, br * hs);
        var dqs = smem.SubView(2 * br * hs, br * hs);
        var ks = smem.SubView(3 * br * hs, bc * hs);
        var vs = smem.SubView(3 * br * hs + bc * hs, bc * hs);
        var dss = smem.SubView(3 * br * hs + 2 * bc * hs, br * bc);
        var ls = smem.SubView(3 * br * hs + 2 * bc * hs + br * bc, br);
        var dl = smem.SubView(3 * br * hs + 2 * bc * hs + br * bc + br, br);
        int q0 = Grid.IdxX * br, h = Grid.IdxY, b = Grid.IdxZ, tid = Group.IdxX, threads = Group.DimX;
        for (int e = tid; e < br * hs; e += threads)
        {
            int t = q0 + e / hs;
            bool ok = t < g.T;
            qs[e] = ok ? q[g.Qkv(b, h, t) + e % hs] : 0f;
            dos[e] = ok ? dout[g.O(b, h, t) + e % hs] : 0f;
            dqs[e] = 0f;
        }
        for (int r = tid; r < br; r += threads)
        {
            int t = q0 + r;
            ls[r] = t < g.T ? lse[g.Row(b, h, t)] : float.PositiveInfinity;
            dl[r] = t < g.T ? dsum[g.Row(b, h, t)] : 0f;
        }
        int kEnd = g.Causal != 0 ? Math.Min(g.T, q0 + br) : g.T;
        for (int k0 = 0; k0 < kEnd; k0 += bc)
        {
            Group.Barrier();
            for (int e = tid; e < bc * hs; e += threads)
            {
                int t = k0 + e / hs;
                bool ok = t < g.T;
                ks[e] = ok ? k[g.Qkv(b, h, t) + e % hs] : 0f;
                vs[e] = ok ? v[g.Qkv(b, h, t) + e % hs] : 0f;
            }
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
            if (t < g.T) dq[g.Qkv(b, h, t) + e % hs] = dqs[e];
        }
    }

    /// <summary>Grid (key blocks, NH, B): dk and dv for Bc keys (0 for masked keys).</summary>
    public static void BackwardKeyValue(AttentionArgs g, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dout,
        ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> lse, ArrayView<float> dsum,
        ArrayView<int> mask)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int br = g.Br, bc = g.Bc, hs = g.HS;
        var ks = smem.SubView(0, bc * hs);
        var vs = smem.SubView(bc * hs, bc * hs);
        var dks = smem.SubView(2 * bc * hs, bc * hs);
        var dvs = smem.SubView(3 * bc * hs, bc * hs);
        var qs = smem.SubView(4 * bc * hs, br * hs);
        var dos = smem.SubView(4 * bc * hs + br * hs, br * hs);
        var ps = smem.SubView(4 * bc * hs + 2 * br * hs, br * bc);
        var dss = smem.SubView(4 * bc * hs + 2 * br * hs + br * bc, br * bc);
        var ls = smem.SubView(4 * bc * hs + 2 * br * hs + 2 * br * bc, br);
        var dl = smem.SubView(4 * bc * hs + 2 * br * hs + 2 * br * bc + br, br);
        int k0 = Grid.IdxX * bc, h = Grid.IdxY, b = Grid.IdxZ, tid = Group.IdxX, threads = Group.DimX;
        for (int e = tid; e < bc * hs; e += threads)
        {
            int t = k0 + e / hs;
            bool ok = t < g.T;
            ks[e] = ok ? k[g.Qkv(b, h, t) + e % hs] : 0f;
            vs[e] = ok ? v[g.Qkv(b, h, t) + e % hs] : 0f;
            dks[e] = 0f;
            dvs[e] = 0f;
        }
        // Causal: queries before this key block never see it.
        int qStart = g.Causal != 0 ? k0 / br * br : 0;
        for (int q0 = qStart; q0 < g.T; q0 += br)
        {
            Group.Barrier();
            for (int e = tid; e < br * hs; e += threads)
            {
                int t = q0 + e / hs;
                bool ok = t < g.T;
                qs[e] = ok ? q[g.Qkv(b, h, t) + e % hs] : 0f;
                dos[e] = ok ? dout[g.O(b, h, t) + e % hs] : 0f;
            }
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
                float accV = 0f, accK = 0f;
                for (int r = 0; r < br; r++)
                {
                    accV += ps[r * bc + j] * dos[r * hs + d];
                    accK += dss[r * bc + j] * qs[r * hs + d];
                }
                dvs[e] += accV;
                dks[e] += accK * g.Scale;
            }
        }
        Group.Barrier();
        for (int e = tid; e < bc * hs; e += threads)
        {
            int t = k0 + e / hs;
            if (t >= g.T) continue;
            long off = g.Qkv(b, h, t) + e % hs;
            dk[off] = dks[e];
            dv[off] = dvs[e];
        }
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>dq, dk, dv (qkv layout, overwritten) from dO and the forward's o and lse.
    /// <paramref name="dsum"/> is caller-owned scratch of B*NH*T floats. With no
    /// <paramref name="tile"/> the flash kernels run where available (HS ≤ 64); an explicit tile
    /// forces the generic kernels.</summary>
    public void AttentionBackward(ArrayView<float> dq, ArrayView<float> dk, ArrayView<float> dv, ArrayView<float> dsum,
        ArrayView<float> dout, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o,
        ArrayView<float> lse, ArrayView<int> keyMask, AttentionArgs g, AttentionTile? tile = null)
    {
        const string op = "attention backward";
        bool flash = tile is null && FlashAttentionAvailable(g.HS);
        var t = flash ? new AttentionTile(AttentionKernels.FlashBackwardRows, AttentionKernels.FlashKeys, AttentionKernels.FlashThreads)
            : tile ?? DefaultAttentionTile(g.HS, backward: true);
        g.Br = t.Br; g.Bc = t.Bc; g.HasMask = keyMask.Length > 0 ? 1 : 0;
        CheckAttention(g, q, k, v, keyMask, op);
        long needQkv = g.Qkv(g.B - 1, g.NH - 1, g.T - 1) + g.HS, needO = g.O(g.B - 1, g.NH - 1, g.T - 1) + g.HS;
        long rows = (long)g.B * g.NH * g.T;
        RequireLength(dq, needQkv, op, "dq"); RequireLength(dk, needQkv, op, "dk"); RequireLength(dv, needQkv, op, "dv");
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
            var grid = new Index3D((g.T + AttentionKernels.FlashBackwardRows - 1) / AttentionKernels.FlashBackwardRows, g.NH, g.B);
            var fq = Cache.Get("Attention.FlashBackwardQuery", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<int>>(AttentionKernels.FlashBackwardQuery));
            fq(new KernelConfig(grid, group), g, dq, dout, q, k, v, lse, dsum, mask);
            var fkv = Cache.Get("Attention.FlashBackwardKeyValue", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<int>>(AttentionKernels.FlashBackwardKeyValue));
            fkv(new KernelConfig(grid, group), g, dk, dv, dout, q, k, v, lse, dsum, mask);
            return;
        }
        var smem = SharedMemoryConfig.RequestDynamic<float>(AttentionKernels.BackwardSharedFloats(t.Br, t.Bc, g.HS));
        var kq = Cache.Get("Attention.BackwardQuery", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<int>>(AttentionKernels.BackwardQuery));
        kq(new KernelConfig(new Index3D((g.T + t.Br - 1) / t.Br, g.NH, g.B), group, smem), g, dq, dout, q, k, v, lse, dsum, mask);
        var kkv = Cache.Get("Attention.BackwardKeyValue", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<int>>(AttentionKernels.BackwardKeyValue));
        kkv(new KernelConfig(new Index3D((g.T + t.Bc - 1) / t.Bc, g.NH, g.B), group, smem), g, dk, dv, dout, q, k, v, lse, dsum, mask);
    }
}
