// Flash attention forward with 32 query rows per group (HS, HV <= 64): the variant for short
// sequences, where 64-row blocks leave the GPU short of groups (T = 128, B·NH = 96: 192 groups of 64
// rows on 132 SMs is 1.45 waves, so half the SMs run 2 groups and half 1). Same tiles, swizzles and
// helpers as AttentionFlash.cs, but each of the 128 threads keeps one FlashRows4 (rows rg + 8i,
// i < 4; keys or head columns 4cg..4cg+3) instead of two: fewer registers, twice the groups, at the
// price of half the reuse of every staged K/V tile. Its block loops (ScoreBlock, ValueBlock) are the
// wide kernel's, which runs them once per 64-column half. KernelLauncher.FlashForwardRows picks it.
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

        StageQuery(g, q, qs, FlashSmallRows, b, h, q0, tid, vec);

        var tile = StartRows();
        int kEnd = g.Causal != 0 ? Math.Min(g.S, q0 + FlashSmallRows) : g.S;
        int row0 = q0 + rg;
        for (int k0 = 0; k0 < kEnd; k0 += FlashKeys)
        {
            Group.Barrier(); // the previous block's P and V are consumed
            StageKeyValue(g, k, v, kps, vs, b, h, k0, tid, vec);
            Group.Barrier();

            ClearScores(ref tile);
            ScoreBlock(ref tile, kps, qs, rg, cg);

            int c = k0 + 4 * cg;
            if (g.HasMask != 0 || k0 + FlashKeys > g.S || (g.Causal != 0 && k0 + FlashKeys - 1 > q0))
                MaskRows(ref tile, row0, c, g.Causal, Keep(g, mask, b, c), Keep(g, mask, b, c + 1), Keep(g, mask, b, c + 2), Keep(g, mask, b, c + 3));
            OnlineRows(ref tile);

            Group.Barrier(); // every thread is done reading K: P may overwrite it
            StoreScores(ref tile, kps.SubView(rg * Slots + (cg ^ rg)), 0);
            Group.Barrier();
            ValueBlock(ref tile.O0, ref tile.O1, ref tile.O2, ref tile.O3, vs, kps, rg, cg);
        }

        FinishRows(ref tile, g, o, lse, b, h, row0, cg, vec);
    }
}
