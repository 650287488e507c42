// The fast fp32 SGEMM: C = alpha op(A) op(B) + beta C, row-major, batched via strides (grid z).
// Block tile BM x BN (128x128, 128x64 or 64x64, a compile-time shape TS), K-tile BK = 8, one thread
// per 8x8 piece of C held as four 4x4 register blocks (rows ty*4 and ty*4 + BM/2, columns tx*4 and
// tx*4 + BN/2; a warp is 4 x 8 threads, so its float4 shared reads take one wavefront each).
// Shared tiles are k-major (As[k][m], Bs[k][n], rows padded by 4 floats) and double-buffered: the
// next K-tile is fetched into registers while the current one feeds 8 x 64 FMAs, one barrier per tile.
// Global loads are float4 where the host proved 16-byte alignment (GemmArgs.VecA/VecB) and the four
// elements are in range; else scalar with bounds checks, so any size and stride is correct.
// Transposes are a compile-time layout TL: no runtime branch or division in the hot loops.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.MatMul"; PTX: Kernels.PtxCompileTests.
// Bench: nanombpo bench gemm --device cuda (GpuBench.Gemm), against cuBLAS in the same process.
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Four floats loaded and stored as one 16-byte vector (ld/st .v4.f32) by ILGPU.</summary>
public struct GemmF4
{
    public float X, Y, Z, W;
}

/// <summary>A 4x4 block of C accumulators, row-major (Cij = row i, column j).</summary>
public struct GemmAcc16
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;
}

/// <summary>A thread's 8x8 piece of C: four 4x4 blocks (rows ty*4 / ty*4 + BM/2, columns tx*4 / tx*4 + BN/2).</summary>
public struct GemmAcc64
{
    public GemmAcc16 C00, C01, C10, C11;
}

/// <summary>Transposes of A and B as a type, so ILGPU specialises the kernel per variant.</summary>
public interface IGemmLayout
{
    bool TransA { get; }
    bool TransB { get; }
}

public struct GemmNN : IGemmLayout { public readonly bool TransA => false; public readonly bool TransB => false; }
public struct GemmNT : IGemmLayout { public readonly bool TransA => false; public readonly bool TransB => true; }
public struct GemmTN : IGemmLayout { public readonly bool TransA => true; public readonly bool TransB => false; }
public struct GemmTT : IGemmLayout { public readonly bool TransA => true; public readonly bool TransB => true; }

/// <summary>Block tile of C per thread group; the group has BlockM·BlockN/64 threads (8x8 each).</summary>
public interface IGemmShape
{
    int BlockM { get; }
    int BlockN { get; }
}

public struct Gemm128x128 : IGemmShape { public readonly int BlockM => 128; public readonly int BlockN => 128; }
public struct Gemm128x64 : IGemmShape { public readonly int BlockM => 128; public readonly int BlockN => 64; }
public struct Gemm64x64 : IGemmShape { public readonly int BlockM => 64; public readonly int BlockN => 64; }

public static partial class MatMulKernels
{
    public const int TiledBk = 8;

    /// <summary>Explicitly grouped: Group.DimX = BlockM·BlockN/64 threads, grid (ceil(N/BN), ceil(M/BM), batch).</summary>
    public static void SgemmTiled<TL, TS>(GemmArgs g, ArrayView<float> c /* (batch,M,N) */,
        ArrayView<float> a /* (batch,M,K) or (batch,K,M) */, ArrayView<float> b /* (batch,K,N) or (batch,N,K) */)
        where TL : struct, IGemmLayout where TS : struct, IGemmShape
    {
        const int BK = TiledBk;
        int BM = default(TS).BlockM, BN = default(TS).BlockN;
        int SA = BM + 4, SB = BN + 4; // padded k-rows: transposed stores of a warp hit 32 banks
        // A 32-thread warp covers 4 rows (ty) x 8 columns (tx) of threads: its float4 reads of a k-step
        // are 4 distinct A and 8 distinct B addresses, one shared-memory wavefront each. (Any warp
        // size is correct; this is only a numbering of the BM/8 x BN/8 threads.)
        int threads = BM * BN / 64, warpsX = BN / 64, warp = Group.IdxX >> 5, lane = Group.IdxX & 31;
        int ty = warp / warpsX * 4 + (lane >> 3), tx = warp % warpsX * 8 + (lane & 7);
        // Two stages of each tile. Sizes are constants once TS is known, so this is static shared memory.
        var As = SharedMemory.Allocate<float>(2 * BK * (128 + 4));
        var Bs = SharedMemory.Allocate<float>(2 * BK * (128 + 4));
        var As4 = As.Cast<GemmF4>();
        var Bs4 = Bs.Cast<GemmF4>();
        var a4 = a.Cast<GemmF4>();
        var b4 = b.Cast<GemmF4>();
        int m0 = Grid.IdxY * BM, n0 = Grid.IdxX * BN;
        long aBase = Grid.IdxZ * g.StrideA, bBase = Grid.IdxZ * g.StrideB;
        int tid = Group.IdxX;

        GemmF4 pa0 = default, pa1 = default, pb0 = default, pb1 = default;
        pa0 = LoadA<TL>(g, a, a4, aBase, m0, 0, tid, BM);
        if (BM * 2 > threads) pa1 = LoadA<TL>(g, a, a4, aBase, m0, 0, tid + threads, BM);
        pb0 = LoadB<TL>(g, b, b4, bBase, n0, 0, tid, BN);
        if (BN * 2 > threads) pb1 = LoadB<TL>(g, b, b4, bBase, n0, 0, tid + threads, BN);
        StoreA<TL>(As, As4, 0, pa0, tid, BM, SA);
        if (BM * 2 > threads) StoreA<TL>(As, As4, 0, pa1, tid + threads, BM, SA);
        StoreB<TL>(Bs, Bs4, 0, pb0, tid, BN, SB);
        if (BN * 2 > threads) StoreB<TL>(Bs, Bs4, 0, pb1, tid + threads, BN, SB);
        Group.Barrier();

        GemmAcc64 acc = default;
        int tiles = (g.K + BK - 1) / BK;
        for (int t = 0; t < tiles; t++)
        {
            int stage = t & 1;
            bool more = t + 1 < tiles;
            if (more)
            {
                // Issue the next tile's global loads now; their latency hides behind the FMAs below.
                int k1 = (t + 1) * BK;
                pa0 = LoadA<TL>(g, a, a4, aBase, m0, k1, tid, BM);
                if (BM * 2 > threads) pa1 = LoadA<TL>(g, a, a4, aBase, m0, k1, tid + threads, BM);
                pb0 = LoadB<TL>(g, b, b4, bBase, n0, k1, tid, BN);
                if (BN * 2 > threads) pb1 = LoadB<TL>(g, b, b4, bBase, n0, k1, tid + threads, BN);
            }
            // Views at this thread's first float4 of the stage: the eight k-steps then index with
            // constants, which fold into the ld.shared address offsets.
            var at = As4.SubView(stage * BK * SA / 4 + ty, (BK - 1) * SA / 4 + BM / 8 + 1);
            var bt = Bs4.SubView(stage * BK * SB / 4 + tx, (BK - 1) * SB / 4 + BN / 8 + 1);
            acc = Step(acc, at, bt, 0 * SA / 4, 0 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 1 * SA / 4, 1 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 2 * SA / 4, 2 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 3 * SA / 4, 3 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 4 * SA / 4, 4 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 5 * SA / 4, 5 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 6 * SA / 4, 6 * SB / 4, BM / 8, BN / 8);
            acc = Step(acc, at, bt, 7 * SA / 4, 7 * SB / 4, BM / 8, BN / 8);
            if (more)
            {
                // The other stage was last read before the previous barrier, so it is free.
                int next = 1 - stage;
                StoreA<TL>(As, As4, next, pa0, tid, BM, SA);
                if (BM * 2 > threads) StoreA<TL>(As, As4, next, pa1, tid + threads, BM, SA);
                StoreB<TL>(Bs, Bs4, next, pb0, tid, BN, SB);
                if (BN * 2 > threads) StoreB<TL>(Bs, Bs4, next, pb1, tid + threads, BN, SB);
            }
            Group.Barrier();
        }

        var c4 = c.Cast<GemmF4>();
        long cBase = Grid.IdxZ * g.StrideC;
        int r0 = m0 + ty * 4, r1 = r0 + BM / 2, q0 = n0 + tx * 4, q1 = q0 + BN / 2;
        StoreC(g, c, c4, cBase, r0, q0, acc.C00); StoreC(g, c, c4, cBase, r0, q1, acc.C01);
        StoreC(g, c, c4, cBase, r1, q0, acc.C10); StoreC(g, c, c4, cBase, r1, q1, acc.C11);
    }

    /// <summary>One k-step of the 8x8 piece: two float4 of A (rows ty*4.., ty*4 + BM/2..) and two of B
    /// (columns tx*4.., tx*4 + BN/2..) from shared memory, 64 FMAs (ptxas fuses ILGPU's mul + add).</summary>
    static GemmAcc64 Step(GemmAcc64 c, ArrayView<GemmF4> at, ArrayView<GemmF4> bt, int ak, int bk, int aHalf, int bHalf)
    {
        var a0 = at[ak]; var a1 = at[ak + aHalf];
        var b0 = bt[bk]; var b1 = bt[bk + bHalf];
        c.C00 = Fma(c.C00, a0, b0); c.C01 = Fma(c.C01, a0, b1);
        c.C10 = Fma(c.C10, a1, b0); c.C11 = Fma(c.C11, a1, b1);
        return c;
    }

    /// <summary>c += a bᵀ for a 4-row column a and a 4-column row b (16 FMAs).</summary>
    static GemmAcc16 Fma(GemmAcc16 c, GemmF4 a, GemmF4 b)
    {
        c.C00 += a.X * b.X; c.C01 += a.X * b.Y; c.C02 += a.X * b.Z; c.C03 += a.X * b.W;
        c.C10 += a.Y * b.X; c.C11 += a.Y * b.Y; c.C12 += a.Y * b.Z; c.C13 += a.Y * b.W;
        c.C20 += a.Z * b.X; c.C21 += a.Z * b.Y; c.C22 += a.Z * b.Z; c.C23 += a.Z * b.W;
        c.C30 += a.W * b.X; c.C31 += a.W * b.Y; c.C32 += a.W * b.Z; c.C33 += a.W * b.W;
        return c;
    }

    /// <summary>Float4 number <paramref name="idx"/> of the A tile at k0: without transpose (row idx/2,
    /// k 4·(idx%2)) from A (M,K); transposed (k idx/(BM/4), row 4·(idx%(BM/4))) from A stored (K,M).</summary>
    static GemmF4 LoadA<TL>(GemmArgs g, ArrayView<float> a, ArrayView<GemmF4> a4, long aBase, int m0, int k0, int idx, int bm)
        where TL : struct, IGemmLayout
    {
        if (!default(TL).TransA)
        {
            int gm = m0 + (idx >> 1), gk = k0 + (idx & 1) * 4;
            long at = aBase + (long)gm * g.Lda + gk;
            return Load4(a, a4, at, g.VecA != 0 && gm < g.M && gk + 3 < g.K, gm < g.M, g.K - gk);
        }
        else
        {
            int gk = k0 + idx / (bm / 4), gm = m0 + idx % (bm / 4) * 4;
            long at = aBase + (long)gk * g.Lda + gm;
            return Load4(a, a4, at, g.VecA != 0 && gk < g.K && gm + 3 < g.M, gk < g.K, g.M - gm);
        }
    }

    /// <summary>Float4 number <paramref name="idx"/> of the B tile at k0: without transpose (k idx/(BN/4),
    /// column 4·(idx%(BN/4))) from B (K,N); transposed (column idx/2, k 4·(idx%2)) from B stored (N,K).</summary>
    static GemmF4 LoadB<TL>(GemmArgs g, ArrayView<float> b, ArrayView<GemmF4> b4, long bBase, int n0, int k0, int idx, int bn)
        where TL : struct, IGemmLayout
    {
        if (!default(TL).TransB)
        {
            int gk = k0 + idx / (bn / 4), gn = n0 + idx % (bn / 4) * 4;
            long at = bBase + (long)gk * g.Ldb + gn;
            return Load4(b, b4, at, g.VecB != 0 && gk < g.K && gn + 3 < g.N, gk < g.K, g.N - gn);
        }
        else
        {
            int gn = n0 + (idx >> 1), gk = k0 + (idx & 1) * 4;
            long at = bBase + (long)gn * g.Ldb + gk;
            return Load4(b, b4, at, g.VecB != 0 && gn < g.N && gk + 3 < g.K, gn < g.N, g.K - gk);
        }
    }

    /// <summary>Four consecutive floats at <paramref name="at"/>: one vector load when allowed, else
    /// the first <paramref name="left"/> of them (zeros past the edge or when the row is out of range).</summary>
    static GemmF4 Load4(ArrayView<float> x, ArrayView<GemmF4> x4, long at, bool vector, bool rowOk, int left)
    {
        if (vector) return x4[at >> 2];
        GemmF4 v = default;
        if (rowOk)
        {
            if (left > 0) v.X = x[at];
            if (left > 1) v.Y = x[at + 1];
            if (left > 2) v.Z = x[at + 2];
            if (left > 3) v.W = x[at + 3];
        }
        return v;
    }

    /// <summary>Writes float4 <paramref name="idx"/> of the A tile into stage <paramref name="stage"/>
    /// of As[k][m]: a row-major A float4 spans 4 k (scattered), a transposed one spans 4 m (one vector).</summary>
    static void StoreA<TL>(ArrayView<float> As, ArrayView<GemmF4> As4, int stage, GemmF4 v, int idx, int bm, int sa)
        where TL : struct, IGemmLayout
    {
        int s = stage * TiledBk * sa;
        if (!default(TL).TransA)
        {
            int m = idx >> 1, k = (idx & 1) * 4;
            As[s + k * sa + m] = v.X; As[s + (k + 1) * sa + m] = v.Y;
            As[s + (k + 2) * sa + m] = v.Z; As[s + (k + 3) * sa + m] = v.W;
        }
        else
        {
            int k = idx / (bm / 4), m = idx % (bm / 4) * 4;
            As4[(s + k * sa + m) >> 2] = v;
        }
    }

    /// <summary>Writes float4 <paramref name="idx"/> of the B tile into stage <paramref name="stage"/> of Bs[k][n].</summary>
    static void StoreB<TL>(ArrayView<float> Bs, ArrayView<GemmF4> Bs4, int stage, GemmF4 v, int idx, int bn, int sb)
        where TL : struct, IGemmLayout
    {
        int s = stage * TiledBk * sb;
        if (!default(TL).TransB)
        {
            int k = idx / (bn / 4), n = idx % (bn / 4) * 4;
            Bs4[(s + k * sb + n) >> 2] = v;
        }
        else
        {
            int n = idx >> 1, k = (idx & 1) * 4;
            Bs[s + k * sb + n] = v.X; Bs[s + (k + 1) * sb + n] = v.Y;
            Bs[s + (k + 2) * sb + n] = v.Z; Bs[s + (k + 3) * sb + n] = v.W;
        }
    }

    /// <summary>C rows r..r+3, columns q..q+3 = alpha acc + beta C (C not read when beta = 0).</summary>
    static void StoreC(GemmArgs g, ArrayView<float> c, ArrayView<GemmF4> c4, long cBase, int r, int q, GemmAcc16 v)
    {
        StoreRow(g, c, c4, cBase, r + 0, q, new GemmF4 { X = v.C00, Y = v.C01, Z = v.C02, W = v.C03 });
        StoreRow(g, c, c4, cBase, r + 1, q, new GemmF4 { X = v.C10, Y = v.C11, Z = v.C12, W = v.C13 });
        StoreRow(g, c, c4, cBase, r + 2, q, new GemmF4 { X = v.C20, Y = v.C21, Z = v.C22, W = v.C23 });
        StoreRow(g, c, c4, cBase, r + 3, q, new GemmF4 { X = v.C30, Y = v.C31, Z = v.C32, W = v.C33 });
    }

    static void StoreRow(GemmArgs g, ArrayView<float> c, ArrayView<GemmF4> c4, long cBase, int r, int q, GemmF4 v)
    {
        if (r >= g.M) return;
        long at = cBase + (long)r * g.Ldc + q;
        if (g.VecC != 0 && q + 3 < g.N)
        {
            var o = new GemmF4 { X = g.Alpha * v.X, Y = g.Alpha * v.Y, Z = g.Alpha * v.Z, W = g.Alpha * v.W };
            if (g.Beta != 0f)
            {
                var old = c4[at >> 2];
                o.X += g.Beta * old.X; o.Y += g.Beta * old.Y; o.Z += g.Beta * old.Z; o.W += g.Beta * old.W;
            }
            c4[at >> 2] = o;
            return;
        }
        StoreOne(g, c, at, q, v.X); StoreOne(g, c, at + 1, q + 1, v.Y);
        StoreOne(g, c, at + 2, q + 2, v.Z); StoreOne(g, c, at + 3, q + 3, v.W);
    }

    static void StoreOne(GemmArgs g, ArrayView<float> c, long at, int q, float v)
    {
        if (q >= g.N) return;
        c[at] = g.Beta == 0f ? g.Alpha * v : g.Alpha * v + g.Beta * c[at];
    }
}
