// Flash attention forward with 32 query rows per group (HS, HV <= 64): the variant for short
// sequences, where 64-row blocks leave the GPU short of groups (T = 128, B·NH = 96: 192 groups of 64
// rows on 132 SMs is 1.45 waves, so half the SMs run 2 groups and half 1). Same tiles, swizzles and
// helpers as AttentionFlash.cs, but each of the 128 threads keeps a 4x4 register tile (rows rg + 8i,
// i < 4; keys or head columns 4cg..4cg+3): fewer registers, twice the groups, at the price of half
// the reuse of every staged K/V tile. KernelLauncher.FlashForwardRows picks it.
// Shared memory: Q 8 KB + K/P 16 KB + V 16 KB = 40 KB.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.AttentionKernelTests" (Flash32 cases).
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static partial class AttentionKernels
{
    /// <summary>Query rows per group of <see cref="FlashForward32"/>.</summary>
    public const int FlashSmallRows = 32;

    /// <summary>Grid (T/32 rounded up, NH, B), 128 threads. Same outputs as <see cref="FlashForward"/>.</summary>
    public static void FlashForward32(AttentionArgs g, ArrayView<float> o, ArrayView<float> lse, ArrayView<float> q,
        ArrayView<float> k, ArrayView<float> v, ArrayView<int> mask /* (B,S), nonzero = key kept */)
    {
        var qs = SharedMemory.Allocate<Float4>(FlashSmallRows * Slots);
        var kps = SharedMemory.Allocate<Float4>(FlashKeys * Slots); // K tile, then P of the same block
        var vs = SharedMemory.Allocate<Float4>(FlashKeys * Slots);
        int tid = Group.IdxX, rg = tid >> 4, cg = tid & 15;
        int q0 = Grid.IdxX * FlashSmallRows, h = Grid.IdxY, b = Grid.IdxZ;
        bool vec = g.Vec != 0;

        float qScale = g.Scale * Log2E;
        for (int e = tid; e < FlashSmallRows * Slots; e += FlashThreads)
        {
            int r = e >> 4, s = e & 15, t = q0 + r;
            var x = LoadSlot(q, t < g.T ? g.Q(b, h, t) : -1, s, g.HS, vec);
            x.X *= qScale; x.Y *= qScale; x.Z *= qScale; x.W *= qScale;
            qs[r * Slots + (s ^ (r & 7))] = x;
        }

        float m0 = float.NegativeInfinity, m1 = m0, m2 = m0, m3 = m0;
        float l0 = 0f, l1 = 0f, l2 = 0f, l3 = 0f;
        Float4 o0 = default, o1 = default, o2 = default, o3 = default;
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + FlashSmallRows) : g.S;
        int row0 = q0 + rg;
        for (int k0 = 0; k0 < kEnd; k0 += FlashKeys)
        {
            Group.Barrier(); // the previous block's P and V are consumed
            StageKeyValue(g, k, v, kps, vs, b, h, k0, tid, vec);
            Group.Barrier();

            Float4 s0 = default, s1 = default, s2 = default, s3 = default;
            int swK = cg & 7;
            for (int d4 = 0; d4 < Slots; d4++)
            {
                var kv = kps.SubView(cg * 4 * Slots + (d4 ^ swK));
                Float4 ka = kv[0], kb = kv[Slots], kc = kv[2 * Slots], kd = kv[3 * Slots];
                var qv = qs.SubView(rg * Slots + (d4 ^ rg));
                Dot4(ref s0, qv[0], ka, kb, kc, kd);
                Dot4(ref s1, qv[8 * Slots], ka, kb, kc, kd);
                Dot4(ref s2, qv[16 * Slots], ka, kb, kc, kd);
                Dot4(ref s3, qv[24 * Slots], ka, kb, kc, kd);
            }

            int c = k0 + 4 * cg;
            if (g.HasMask != 0 || k0 + FlashKeys > g.S || (g.Causal != 0 && k0 + FlashKeys - 1 > q0))
            {
                bool kx = Keep(g, mask, b, c), ky = Keep(g, mask, b, c + 1), kz = Keep(g, mask, b, c + 2), kw = Keep(g, mask, b, c + 3);
                int causal = g.Causal;
                Mask(ref s0, row0, c, causal, kx, ky, kz, kw); Mask(ref s1, row0 + 8, c, causal, kx, ky, kz, kw);
                Mask(ref s2, row0 + 16, c, causal, kx, ky, kz, kw); Mask(ref s3, row0 + 24, c, causal, kx, ky, kz, kw);
            }
            Online(ref s0, ref m0, ref l0, ref o0); Online(ref s1, ref m1, ref l1, ref o1);
            Online(ref s2, ref m2, ref l2, ref o2); Online(ref s3, ref m3, ref l3, ref o3);

            Group.Barrier(); // every thread is done reading K: P may overwrite it
            var pw = kps.SubView(rg * Slots + (cg ^ rg));
            pw[0] = s0; pw[8 * Slots] = s1; pw[16 * Slots] = s2; pw[24 * Slots] = s3;
            Group.Barrier();

            for (int j4 = 0; j4 < Slots; j4++)
            {
                var vv = vs.SubView(j4 * 4 * Slots + cg);
                Float4 va = vv[0], vb = vv[Slots], vc = vv[2 * Slots], vd = vv[3 * Slots];
                var pv = kps.SubView(rg * Slots + (j4 ^ rg));
                Axpy4(ref o0, pv[0], va, vb, vc, vd);
                Axpy4(ref o1, pv[8 * Slots], va, vb, vc, vd);
                Axpy4(ref o2, pv[16 * Slots], va, vb, vc, vd);
                Axpy4(ref o3, pv[24 * Slots], va, vb, vc, vd);
            }
        }

        Finish(g, o, lse, b, h, row0, cg, vec, o0, l0, m0); Finish(g, o, lse, b, h, row0 + 8, cg, vec, o1, l1, m1);
        Finish(g, o, lse, b, h, row0 + 16, cg, vec, o2, l2, m2); Finish(g, o, lse, b, h, row0 + 24, cg, vec, o3, l3, m3);
    }
}
