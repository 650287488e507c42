// Fused scaled dot-product attention with a key-padding mask (and optional causal mask), forward:
// tiled online softmax (FlashAttention style): one group per (query block, head, batch) walks the key
// blocks keeping a running max and sum per row, so no T x S matrix reaches global memory; it stores the
// row logsumexp for the backward (AttentionBackward.cs). T queries attend to S keys (cross-attention);
// q/k rows have HS columns, v/o rows HV. Layout is given by element strides, so q/k/v may be slices of
// a packed (B,T,3C) buffer and o a (B,T,C) buffer (AttentionArgs.PackedBtc).
// This is the generic kernel (any HS/HV, any tile, warp 4 devices); with no explicit tile the launcher
// runs a register-tiled flash kernel instead where the device allows: HS, HV ≤ 64 FlashForward
// (AttentionFlash.cs, 64 query rows) or FlashForward32 (AttentionFlashSmall.cs, short sequences, see
// FlashForwardRows); HS or HV in 65..128 FlashForwardWide (AttentionFlashWide.cs).
// Test: dotnet test --filter "FullyQualifiedName~Kernels.AttentionKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Sizes, tiles and strides of one attention call: T queries attend to S keys; q and k rows
/// have HS columns, v, o and dO rows HV. Strides are in elements: q strides apply to q and dq, k strides
/// to k and dk, v strides to v and dv, o strides to o and dO. lse and the backward scratch are dense
/// (B,NH,T); the key mask is dense (B,S). Vec (set by the launcher) = 1 when every row starts 16-byte
/// aligned, so rows move as float4.</summary>
public struct AttentionArgs
{
    public int B, NH, T, S, HS, HV, Br, Bc, Causal, HasMask, Vec;
    public float Scale;
    public int QStrideB, QStrideH, QStrideT, KStrideB, KStrideH, KStrideT;
    public int VStrideB, VStrideH, VStrideT, OStrideB, OStrideH, OStrideT;

    /// <summary>Self-attention with q, k, v, o all dense (B,NH,T,HS).</summary>
    public static AttentionArgs Contiguous(int b, int nh, int t, int hs, bool causal = false) =>
        Contiguous(b, nh, t, t, hs, hs, causal);

    /// <summary>Dense q (B,NH,T,HS), k (B,NH,S,HS), v (B,NH,S,HV), o (B,NH,T,HV).</summary>
    public static AttentionArgs Contiguous(int b, int nh, int t, int s, int hs, int hv, bool causal = false) => new()
    {
        B = b, NH = nh, T = t, S = s, HS = hs, HV = hv, Causal = causal ? 1 : 0, Scale = 1f / MathF.Sqrt(hs),
        QStrideB = nh * t * hs, QStrideH = t * hs, QStrideT = hs,
        KStrideB = nh * s * hs, KStrideH = s * hs, KStrideT = hs,
        VStrideB = nh * s * hv, VStrideH = s * hv, VStrideT = hv,
        OStrideB = nh * t * hv, OStrideH = t * hv, OStrideT = hv,
    };

    /// <summary>q, k, v are views into a packed (B,T,3C) buffer at offsets 0, C, 2C (C = NH*HS);
    /// o and dO are (B,T,C). Head h occupies columns h*HS..h*HS+HS-1.</summary>
    public static AttentionArgs PackedBtc(int b, int nh, int t, int hs, bool causal = false) => new()
    {
        B = b, NH = nh, T = t, S = t, HS = hs, HV = hs, Causal = causal ? 1 : 0, Scale = 1f / MathF.Sqrt(hs),
        QStrideB = t * 3 * nh * hs, QStrideH = hs, QStrideT = 3 * nh * hs,
        KStrideB = t * 3 * nh * hs, KStrideH = hs, KStrideT = 3 * nh * hs,
        VStrideB = t * 3 * nh * hs, VStrideH = hs, VStrideT = 3 * nh * hs,
        OStrideB = t * nh * hs, OStrideH = hs, OStrideT = nh * hs,
    };

    public readonly long Q(int b, int h, int t) => (long)b * QStrideB + (long)h * QStrideH + (long)t * QStrideT;
    public readonly long K(int b, int h, int s) => (long)b * KStrideB + (long)h * KStrideH + (long)s * KStrideT;
    public readonly long V(int b, int h, int s) => (long)b * VStrideB + (long)h * VStrideH + (long)s * VStrideT;
    public readonly long O(int b, int h, int t) => (long)b * OStrideB + (long)h * OStrideH + (long)t * OStrideT;
    public readonly long Row(int b, int h, int t) => ((long)b * NH + h) * T + t;

    /// <summary>Whether query tq may attend to key tk: both in range, the key kept, and causal keeps
    /// tk ≤ tq (top-left aligned, as the CPU op, also when S ≠ T).</summary>
    internal readonly bool Allowed(ArrayView<int> mask, int b, int tq, int tk) =>
        tq < T && tk < S && (HasMask == 0 || mask[(long)b * S + tk] != 0) && (Causal == 0 || tk <= tq);
}

/// <summary>Query/key tile sizes and threads per group of the attention kernels.</summary>
public readonly record struct AttentionTile(int Br, int Bc, int Threads);

public static partial class AttentionKernels
{
    public static int ForwardSharedFloats(int br, int bc, int hs, int hv) => (br + bc) * (hs + hv) + br * bc + 3 * br;

    /// <summary>Grid (query blocks, NH, B). o (B,NH,T,HV) by strides, lse (B,NH,T): +inf for rows
    /// with no allowed key (their output is 0).</summary>
    public static void Forward(AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<int> mask /* (B,S), nonzero = key kept */)
    {
        var smem = SharedMemory.GetDynamic<float>();
        int br = g.Br, bc = g.Bc, hs = g.HS, hv = g.HV;
        var qs = smem.SubView(0, br * hs);
        var os = smem.SubView(br * hs, br * hv);
        int kAt = br * (hs + hv);
        var ks = smem.SubView(kAt, bc * hs);
        var vs = smem.SubView(kAt + bc * hs, bc * hv);
        int sAt = kAt + bc * (hs + hv);
        var s = smem.SubView(sAt, br * bc);
        int rows = sAt + br * bc;
        var mrow = smem.SubView(rows, br);
        var lrow = smem.SubView(rows + br, br);
        var alpha = smem.SubView(rows + 2 * br, br);
        int q0 = Grid.IdxX * br, h = Grid.IdxY, b = Grid.IdxZ, tid = Group.IdxX, threads = Group.DimX;

        // Q is pre-scaled so each score costs one dot product.
        for (int e = tid; e < br * hs; e += threads)
        {
            int t = q0 + e / hs;
            qs[e] = t < g.T ? q[g.Q(b, h, t) + e % hs] * g.Scale : 0f;
        }
        for (int e = tid; e < br * hv; e += threads) os[e] = 0f;
        for (int r = tid; r < br; r += threads) { mrow[r] = float.NegativeInfinity; lrow[r] = 0f; }
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + br) : g.S;
        for (int k0 = 0; k0 < kEnd; k0 += bc)
        {
            Group.Barrier();
            for (int e = tid; e < bc * hs; e += threads)
            {
                int t = k0 + e / hs;
                ks[e] = t < g.S ? k[g.K(b, h, t) + e % hs] : 0f;
            }
            for (int e = tid; e < bc * hv; e += threads)
            {
                int t = k0 + e / hv;
                vs[e] = t < g.S ? v[g.V(b, h, t) + e % hv] : 0f;
            }
            Group.Barrier();
            for (int e = tid; e < br * bc; e += threads)
            {
                int r = e / bc, j = e % bc;
                float score = float.NegativeInfinity;
                if (g.Allowed(mask, b, q0 + r, k0 + j))
                {
                    score = 0f;
                    for (int d = 0; d < hs; d++) score += qs[r * hs + d] * ks[j * hs + d];
                }
                s[e] = score;
            }
            Group.Barrier();
            for (int r = tid; r < br; r += threads)
            {
                float mOld = mrow[r], mx = mOld;
                for (int j = 0; j < bc; j++) mx = Math.Max(mx, s[r * bc + j]);
                if (mx == float.NegativeInfinity)
                {
                    // Nothing allowed so far: keep the row empty (avoids exp(-inf - -inf) = NaN).
                    for (int j = 0; j < bc; j++) s[r * bc + j] = 0f;
                    alpha[r] = 1f;
                }
                else
                {
                    float sum = 0f;
                    for (int j = 0; j < bc; j++)
                    {
                        float p = XMath.Exp(s[r * bc + j] - mx);
                        s[r * bc + j] = p;
                        sum += p;
                    }
                    float a = XMath.Exp(mOld - mx);
                    alpha[r] = a;
                    lrow[r] = lrow[r] * a + sum;
                    mrow[r] = mx;
                }
            }
            Group.Barrier();
            for (int e = tid; e < br * hv; e += threads)
            {
                int r = e / hv, d = e % hv;
                float acc = os[e] * alpha[r];
                for (int j = 0; j < bc; j++) acc += s[r * bc + j] * vs[j * hv + d];
                os[e] = acc;
            }
        }
        Group.Barrier();
        for (int e = tid; e < br * hv; e += threads)
        {
            int r = e / hv, t = q0 + r;
            if (t < g.T) o[g.O(b, h, t) + e % hv] = lrow[r] > 0f ? os[e] / lrow[r] : 0f;
        }
        for (int r = tid; r < br; r += threads)
        {
            int t = q0 + r;
            if (t < g.T) lse[g.Row(b, h, t)] = lrow[r] > 0f ? mrow[r] + XMath.Log(lrow[r]) : float.PositiveInfinity;
        }
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>Largest power-of-two tiles (≤ 32) whose shared memory fits the device, and up to 128
    /// threads per group.</summary>
    public AttentionTile DefaultAttentionTile(int hs, int hv, bool backward)
    {
        long limit = Accelerator.MaxSharedMemoryPerGroup / sizeof(float);
        int tile = 32;
        while (tile > 1 && (backward ? AttentionKernels.BackwardSharedFloats(tile, tile, hs, hv)
                   : AttentionKernels.ForwardSharedFloats(tile, tile, hs, hv)) > limit) tile /= 2;
        int threads = Math.Min(128, MaxGroupSize) / WarpSize * WarpSize;
        return new AttentionTile(tile, tile, Math.Max(threads, WarpSize));
    }

    static void CheckAttention(AttentionArgs g, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v,
        ArrayView<int> mask, string op)
    {
        Require(g.B > 0 && g.NH > 0 && g.T > 0 && g.S > 0 && g.HS > 0 && g.HV > 0, op,
            $"sizes must be positive, got B={g.B} NH={g.NH} T={g.T} S={g.S} HS={g.HS} HV={g.HV}");
        string sizes = $"{op} B={g.B} NH={g.NH} T={g.T} S={g.S} HS={g.HS} HV={g.HV}";
        RequireLength(q, g.Q(g.B - 1, g.NH - 1, g.T - 1) + g.HS, sizes, "q");
        RequireLength(k, g.K(g.B - 1, g.NH - 1, g.S - 1) + g.HS, sizes, "k");
        RequireLength(v, g.V(g.B - 1, g.NH - 1, g.S - 1) + g.HV, sizes, "v");
        if (g.HasMask != 0) RequireLength(mask, (long)g.B * g.S, sizes, "key_padding_mask");
    }

    /// <summary>Whether the flash kernels (<see cref="AttentionKernels.FlashForward"/> and the flash
    /// backward) can run: HS and HV ≤ 64 (zero-padded to 64), 128 threads per group, 48 KB of shared
    /// memory and a warp of at least 16 lanes (their row reductions).</summary>
    public bool FlashAttentionAvailable(int hs, int hv) =>
        hs <= AttentionKernels.FlashHs && hv <= AttentionKernels.FlashHs &&
        MaxGroupSize >= AttentionKernels.FlashThreads && WarpSize >= 16 &&
        (WarpSize & (WarpSize - 1)) == 0 && Accelerator.MaxSharedMemoryPerGroup >= 3 * 64 * 64 * sizeof(float);

    /// <summary>Whether <see cref="AttentionKernels.FlashForwardWide"/> can run: HS and HV ≤ 128 on a
    /// device that runs the flash kernels.</summary>
    public bool FlashWideAvailable(int hs, int hv) =>
        hs <= AttentionKernels.FlashWideHs && hv <= AttentionKernels.FlashWideHs && FlashAttentionAvailable(0, 0);

    /// <summary>o = softmax(q kᵀ scale + mask) v per (batch, head); lse (B,NH,T) is saved for the
    /// backward. <paramref name="keyMask"/> (B,S) marks kept keys with nonzero; pass an empty view for
    /// no mask. With no <paramref name="tile"/> the flash kernel runs where available (HS, HV ≤ 64;
    /// the wide one up to 128), else the generic kernel with the default tile; an explicit tile forces
    /// the generic kernel.
    /// <paramref name="flashRows"/> (32 or 64; 0 = <see cref="FlashForwardRows"/>) picks the flash
    /// variant, for tests and benchmarks.</summary>
    public void AttentionForward(ArrayView<float> o, ArrayView<float> lse, ArrayView<float> q, ArrayView<float> k,
        ArrayView<float> v, ArrayView<int> keyMask, AttentionArgs g, AttentionTile? tile = null, int flashRows = 0)
    {
        const string op = "attention";
        if (flashRows is not (0 or AttentionKernels.FlashSmallRows or AttentionKernels.FlashRows))
            throw new ArgumentOutOfRangeException(nameof(flashRows), flashRows, $"{op}: flashRows must be 0, 32 or 64.");
        bool flash = tile is null && FlashAttentionAvailable(g.HS, g.HV);
        bool wide = tile is null && !flash && FlashWideAvailable(g.HS, g.HV);
        int rows = wide ? AttentionKernels.FlashSmallRows : flashRows != 0 ? flashRows : FlashForwardRows(g);
        var t = flash || wide ? new AttentionTile(rows, AttentionKernels.FlashKeys, AttentionKernels.FlashThreads)
            : tile ?? DefaultAttentionTile(g.HS, g.HV, backward: false);
        g.Br = t.Br; g.Bc = t.Bc; g.HasMask = keyMask.Length > 0 ? 1 : 0;
        CheckAttention(g, q, k, v, keyMask, op);
        RequireLength(o, g.O(g.B - 1, g.NH - 1, g.T - 1) + g.HV, op, "o");
        RequireLength(lse, (long)g.B * g.NH * g.T, op, "lse");
        var grid = new Index3D((g.T + t.Br - 1) / t.Br, g.NH, g.B);
        // An empty mask view cannot be passed to a kernel on every backend: hand it a 1-element stand-in.
        var mask = keyMask.Length > 0 ? keyMask : DummyMask;
        if (flash || wide)
        {
            g.Vec = RowsAligned(g, q, k, v, o) ? 1 : 0;
            var fk = wide
                ? Cache.Get("Attention.FlashForwardWide", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(AttentionKernels.FlashForwardWide))
                : rows == AttentionKernels.FlashSmallRows
                ? Cache.Get("Attention.FlashForward32", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(AttentionKernels.FlashForward32))
                : Cache.Get("Attention.FlashForward", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(AttentionKernels.FlashForward));
            fk(new KernelConfig(grid, new Index3D(t.Threads, 1, 1)), g, o, lse, q, k, v, mask);
            return;
        }
        var kernel = Cache.Get("Attention.Forward", a => a.LoadStreamKernel<AttentionArgs, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(AttentionKernels.Forward));
        var config = new KernelConfig(grid, new Index3D(t.Threads, 1, 1),
            SharedMemoryConfig.RequestDynamic<float>(AttentionKernels.ForwardSharedFloats(t.Br, t.Bc, g.HS, g.HV)));
        kernel(config, g, o, lse, q, k, v, mask);
    }

    /// <summary>Query rows per group of the flash forward: 32 when 64-row blocks would give fewer
    /// than two groups per multiprocessor (short sequences: T = 128 with B·NH = 96 gives 192 groups on
    /// an H100's 132 SMs), else 64, whose larger register tile reuses each staged K/V tile twice as
    /// often.</summary>
    public int FlashForwardRows(AttentionArgs g)
    {
        long groups64 = (long)((g.T + AttentionKernels.FlashRows - 1) / AttentionKernels.FlashRows) * g.NH * g.B;
        return groups64 < 2L * Accelerator.NumMultiprocessors ? AttentionKernels.FlashSmallRows : AttentionKernels.FlashRows;
    }

    /// <summary>True when every q/k/v/o row starts on a 16-byte boundary (buffers themselves are at
    /// least 16-byte aligned): HS, HV, all strides and the views' element offsets are multiples of 4.</summary>
    static bool RowsAligned(AttentionArgs g, ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> o) =>
        g.HS % 4 == 0 && g.HV % 4 == 0 &&
        (g.QStrideB | g.QStrideH | g.QStrideT | g.KStrideB | g.KStrideH | g.KStrideT) % 4 == 0 &&
        (g.VStrideB | g.VStrideH | g.VStrideT | g.OStrideB | g.OStrideH | g.OStrideT) % 4 == 0 &&
        Offset(q) % 4 == 0 && Offset(k) % 4 == 0 && Offset(v) % 4 == 0 && Offset(o) % 4 == 0;

    static long Offset(ArrayView<float> view) => ((IContiguousArrayView)view).Index;

    ArrayView<int> DummyMask => (dummyMask ??= Accelerator.Allocate1D<int>(1)).View;
    MemoryBuffer1D<int, Stride1D.Dense>? dummyMask; // lives as long as the accelerator's launcher
}
