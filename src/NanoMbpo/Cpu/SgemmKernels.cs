// SGEMM register-tiled micro-kernels: AVX-512 (8x32, and 8x16 for N <= 16), AVX2+FMA (6x16) and
// scalar (4x4). Each computes one MR x NR tile of C from kc steps of A and B:
//   A(i,k) = a[i*ars + k*aks]  (packed panel: ars=1, aks=MR; Aᵀ storage: ars=1, aks=lda; rows: ars=lda, aks=1)
//   B(k,j) = b[k*bks + j]      (packed panel: bks=NR; row-major B: bks=ldb)
//   C = alpha*acc (beta == 0, C never read) or C = fma(alpha, acc, beta*C).
// The Vector512/Vector256 APIs run in software where the ISA is absent, so tests exercise every
// kernel on any machine. Check JIT output: DOTNET_JitDisasm=K6x16 (no stack spills in the loop).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NanoMbpo.Cpu;

internal static unsafe class SgemmKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector512<float> acc, Vector512<float> alpha, float beta)
    {
        if (beta == 0f) Vector512.Store(acc * alpha, c);
        else Vector512.Store(Vector512.FusedMultiplyAdd(alpha, acc, Vector512.Load(c) * beta), c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, Vector256<float> acc, Vector256<float> alpha, float beta)
    {
        if (beta == 0f) Vector256.Store(acc * alpha, c);
        else Vector256.Store(Vector256.FusedMultiplyAdd(alpha, acc, Vector256.Load(c) * beta), c);
    }

    /// <summary>C is touched only after the k loop; fetching it now hides the misses (large C rows sit in
    /// different pages, so the hardware prefetcher does not see them coming).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PrefetchC(float* c, nint ldc, int rows, int cols)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < rows; i++, c += ldc)
        {
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + cols - 1);
        }
    }

    /// <summary>AVX-512 8x32 tile: 16 zmm accumulators, 2 B loads and 8 broadcasts per k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void K8x32(int kc, float* a, nint ars, nint aks, float* b, nint bks, float* c, nint ldc, float alpha, float beta)
    {
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars, a4 = a + 4 * ars, a5 = a + 5 * ars, a6 = a + 6 * ars, a7 = a + 7 * ars;
        PrefetchC(c, ldc, 8, 32);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* bEnd = b + kc * bks;
        nint o = 0;
        for (; b != bEnd; b += bks, o += aks)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a0[o]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[o]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[o]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[o]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[o]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[o]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[o]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[o]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        var va = Vector512.Create(alpha);
        Store(c, c00, va, beta); Store(c + 16, c01, va, beta); c += ldc;
        Store(c, c10, va, beta); Store(c + 16, c11, va, beta); c += ldc;
        Store(c, c20, va, beta); Store(c + 16, c21, va, beta); c += ldc;
        Store(c, c30, va, beta); Store(c + 16, c31, va, beta); c += ldc;
        Store(c, c40, va, beta); Store(c + 16, c41, va, beta); c += ldc;
        Store(c, c50, va, beta); Store(c + 16, c51, va, beta); c += ldc;
        Store(c, c60, va, beta); Store(c + 16, c61, va, beta); c += ldc;
        Store(c, c70, va, beta); Store(c + 16, c71, va, beta);
    }

    /// <summary>AVX-512 8x16 tile for N &lt;= 16: k is split even/odd over two accumulator sets so
    /// 16 independent FMA chains hide the FMA latency with only 8 rows (8 row pointers fit the GPRs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void K8x16(int kc, float* a, nint ars, nint aks, float* b, nint bks, float* c, nint ldc, float alpha, float beta)
    {
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars, a4 = a + 4 * ars, a5 = a + 5 * ars, a6 = a + 6 * ars, a7 = a + 7 * ars;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        float* bEnd2 = b + (kc & ~1) * bks;
        nint o = 0;
        for (; b != bEnd2; b += 2 * bks, o += 2 * aks)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + bks);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[o]), b0, c0); d0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[o + aks]), b1, d0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[o]), b0, c1); d1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[o + aks]), b1, d1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[o]), b0, c2); d2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[o + aks]), b1, d2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[o]), b0, c3); d3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[o + aks]), b1, d3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[o]), b0, c4); d4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[o + aks]), b1, d4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[o]), b0, c5); d5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[o + aks]), b1, d5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[o]), b0, c6); d6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[o + aks]), b1, d6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[o]), b0, c7); d7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[o + aks]), b1, d7);
        }
        if ((kc & 1) != 0)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0[o]), b0, c0); c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1[o]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2[o]), b0, c2); c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3[o]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a4[o]), b0, c4); c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a5[o]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a6[o]), b0, c6); c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a7[o]), b0, c7);
        }
        var va = Vector512.Create(alpha);
        Store(c, c0 + d0, va, beta); c += ldc; Store(c, c1 + d1, va, beta); c += ldc;
        Store(c, c2 + d2, va, beta); c += ldc; Store(c, c3 + d3, va, beta); c += ldc;
        Store(c, c4 + d4, va, beta); c += ldc; Store(c, c5 + d5, va, beta); c += ldc;
        Store(c, c6 + d6, va, beta); c += ldc; Store(c, c7 + d7, va, beta);
    }

    /// <summary>K8x32 for A with unit row stride (packed panels, Aᵀ storage): one A pointer, so the 8 row pointers do not compete for the 14 usable GPRs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void K8x32P(int kc, float* a, nint ars, nint aks, float* b, nint bks, float* c, nint ldc, float alpha, float beta)
    {
        PrefetchC(c, ldc, 8, 32);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* bEnd = b + kc * bks;
        nint o = 0;
        for (; b != bEnd; b += bks, o += aks)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[o + 0]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[o + 1]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[o + 2]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[o + 3]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[o + 4]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[o + 5]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[o + 6]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[o + 7]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
        }
        var va = Vector512.Create(alpha);
        Store(c, c00, va, beta); Store(c + 16, c01, va, beta); c += ldc;
        Store(c, c10, va, beta); Store(c + 16, c11, va, beta); c += ldc;
        Store(c, c20, va, beta); Store(c + 16, c21, va, beta); c += ldc;
        Store(c, c30, va, beta); Store(c + 16, c31, va, beta); c += ldc;
        Store(c, c40, va, beta); Store(c + 16, c41, va, beta); c += ldc;
        Store(c, c50, va, beta); Store(c + 16, c51, va, beta); c += ldc;
        Store(c, c60, va, beta); Store(c + 16, c61, va, beta); c += ldc;
        Store(c, c70, va, beta); Store(c + 16, c71, va, beta);
    }

    /// <summary>K8x16 for A with unit row stride (packed panels, Aᵀ storage): one A pointer instead of eight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void K8x16P(int kc, float* a, nint ars, nint aks, float* b, nint bks, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        float* bEnd2 = b + (kc & ~1) * bks;
        nint o = 0;
        for (; b != bEnd2; b += 2 * bks, o += 2 * aks)
        {
            var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + bks);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 0]), b0, c0); d0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 0]), b1, d0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 1]), b0, c1); d1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 1]), b1, d1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 2]), b0, c2); d2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 2]), b1, d2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 3]), b0, c3); d3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 3]), b1, d3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 4]), b0, c4); d4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 4]), b1, d4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 5]), b0, c5); d5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 5]), b1, d5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 6]), b0, c6); d6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 6]), b1, d6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 7]), b0, c7); d7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + aks + 7]), b1, d7);
        }
        if ((kc & 1) != 0)
        {
            var b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 0]), b0, c0); c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 2]), b0, c2); c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 4]), b0, c4); c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 5]), b0, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 6]), b0, c6); c7 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o + 7]), b0, c7);
        }
        var va = Vector512.Create(alpha);
        Store(c, c0 + d0, va, beta); c += ldc; Store(c, c1 + d1, va, beta); c += ldc;
        Store(c, c2 + d2, va, beta); c += ldc; Store(c, c3 + d3, va, beta); c += ldc;
        Store(c, c4 + d4, va, beta); c += ldc; Store(c, c5 + d5, va, beta); c += ldc;
        Store(c, c6 + d6, va, beta); c += ldc; Store(c, c7 + d7, va, beta);
    }

    /// <summary>AVX2+FMA 6x16 tile: 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 ymm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void K6x16(int kc, float* a, nint ars, nint aks, float* b, nint bks, float* c, nint ldc, float alpha, float beta)
    {
        float* a0 = a, a1 = a + ars, a2 = a + 2 * ars, a3 = a + 3 * ars, a4 = a + 4 * ars, a5 = a + 5 * ars;
        PrefetchC(c, ldc, 6, 16);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* bEnd = b + kc * bks;
        nint o = 0;
        for (; b != bEnd; b += bks, o += aks)
        {
            var b0 = Vector256.Load(b); var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a0[o]); c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[o]); c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[o]); c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[o]); c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a4[o]); c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a5[o]); c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
        }
        var va = Vector256.Create(alpha);
        Store(c, c00, va, beta); Store(c + 8, c01, va, beta); c += ldc;
        Store(c, c10, va, beta); Store(c + 8, c11, va, beta); c += ldc;
        Store(c, c20, va, beta); Store(c + 8, c21, va, beta); c += ldc;
        Store(c, c30, va, beta); Store(c + 8, c31, va, beta); c += ldc;
        Store(c, c40, va, beta); Store(c + 8, c41, va, beta); c += ldc;
        Store(c, c50, va, beta); Store(c + 8, c51, va, beta);
    }

    /// <summary>Portable scalar 4x4 tile (machines without FMA vectors); same store rule as above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void K4x4(int kc, float* a, nint ars, nint aks, float* b, nint bks, float* c, nint ldc, float alpha, float beta)
    {
        float* acc = stackalloc float[16];
        for (int t = 0; t < 16; t++) acc[t] = 0f;
        nint o = 0;
        for (int k = 0; k < kc; k++, b += bks, o += aks)
            for (int i = 0; i < 4; i++)
            {
                float x = a[i * ars + o];
                for (int j = 0; j < 4; j++) acc[i * 4 + j] = MathF.FusedMultiplyAdd(x, b[j], acc[i * 4 + j]);
            }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
            {
                float* p = c + i * ldc + j;
                *p = beta == 0f ? acc[i * 4 + j] * alpha : MathF.FusedMultiplyAdd(alpha, acc[i * 4 + j], *p * beta);
            }
    }
}
