// SmallGemm: C(M,N) = A(M,K)·W(N,K)ᵀ for few rows (a single short sequence: M = 16), straight from the
// weight's (out,in) storage with no packing. At such M a packing GEMM spends more time packing W than
// multiplying; here each 4-row block of W is read once from memory and used against every row of A
// (A stays in L1). 4×4 register blocks of Vector512 (or Vector256) dot products over K, then horizontal
// sums. Blocks of W are shared out by WorkShare. Needs K % 16 == 0 (Vector512) or % 8 (Vector256). Since the
// prepacked kernels cover AVX-512 and AVX2 + FMA CPUs (PackedGemm.cs), it runs only off those (or in bench
// variants with BertInference.UsePacked = false).
// Tests: tests/NanoMbpo.Bert.Tests/GemmKernelTests.cs (SmallGemmMatchesSgemm: against Sgemm, odd M and N included).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bert.Cpu;

internal static unsafe class SmallGemm
{
    /// <summary>True when this kernel handles the shape (else use Sgemm).</summary>
    public static bool Supports(int m, int k) => m <= 32 && (Vector512.IsHardwareAccelerated ? k % 16 == 0 : Vector256.IsHardwareAccelerated && k % 8 == 0);

    [ThreadStatic] static Job? job;

    sealed class Job
    {
        public float* A, W, C;
        public int M, N, K, Ldc;
        public readonly Action<int, int> Body;
        public Job() => Body = Run;
        void Run(int nb0, int nb1)
        {
            for (int nb = nb0; nb < nb1; nb++)
            {
                int n0 = nb * 4, nn = Math.Min(4, N - n0);
                for (int m0 = 0; m0 < M; m0 += 4)
                {
                    int mm = Math.Min(4, M - m0);
                    if (Vector512.IsHardwareAccelerated) Block512(A + (long)m0 * K, W + (long)n0 * K, C + (long)m0 * Ldc + n0, K, Ldc, mm, nn);
                    else Block256(A + (long)m0 * K, W + (long)n0 * K, C + (long)m0 * Ldc + n0, K, Ldc, mm, nn);
                }
            }
        }
    }

    /// <summary>C = A·Wᵀ (beta 0); A row stride K, W (N,K) row stride K, C row stride ldc.</summary>
    public static void Run(int M, int N, int K, float* A, float* W, float* C, int ldc)
    {
        var j = job ??= new Job();
        j.A = A; j.W = W; j.C = C; j.M = M; j.N = N; j.K = K; j.Ldc = ldc;
        WorkShare.Current.For((N + 3) / 4, 16, j.Body);
    }

    // Rows past mm / nn re-read the last valid row (clamped) and are not stored.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block512(float* a, float* w, float* c, int K, int ldc, int mm, int nn)
    {
        float* a0 = a, a1 = a + K * Math.Min(1, mm - 1), a2 = a + K * Math.Min(2, mm - 1), a3 = a + K * Math.Min(3, mm - 1);
        float* w0 = w, w1 = w + K * Math.Min(1, nn - 1), w2 = w + K * Math.Min(2, nn - 1), w3 = w + K * Math.Min(3, nn - 1);
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k = 0; k < K; k += 16)
        {
            var x0 = Vector512.Load(w0 + k); var x1 = Vector512.Load(w1 + k); var x2 = Vector512.Load(w2 + k); var x3 = Vector512.Load(w3 + k);
            var y = Vector512.Load(a0 + k);
            c00 = Vector512.FusedMultiplyAdd(y, x0, c00); c01 = Vector512.FusedMultiplyAdd(y, x1, c01); c02 = Vector512.FusedMultiplyAdd(y, x2, c02); c03 = Vector512.FusedMultiplyAdd(y, x3, c03);
            y = Vector512.Load(a1 + k);
            c10 = Vector512.FusedMultiplyAdd(y, x0, c10); c11 = Vector512.FusedMultiplyAdd(y, x1, c11); c12 = Vector512.FusedMultiplyAdd(y, x2, c12); c13 = Vector512.FusedMultiplyAdd(y, x3, c13);
            y = Vector512.Load(a2 + k);
            c20 = Vector512.FusedMultiplyAdd(y, x0, c20); c21 = Vector512.FusedMultiplyAdd(y, x1, c21); c22 = Vector512.FusedMultiplyAdd(y, x2, c22); c23 = Vector512.FusedMultiplyAdd(y, x3, c23);
            y = Vector512.Load(a3 + k);
            c30 = Vector512.FusedMultiplyAdd(y, x0, c30); c31 = Vector512.FusedMultiplyAdd(y, x1, c31); c32 = Vector512.FusedMultiplyAdd(y, x2, c32); c33 = Vector512.FusedMultiplyAdd(y, x3, c33);
        }
        Store(c, 0, ldc, mm, nn, Vector512.Sum(c00), Vector512.Sum(c01), Vector512.Sum(c02), Vector512.Sum(c03));
        Store(c, 1, ldc, mm, nn, Vector512.Sum(c10), Vector512.Sum(c11), Vector512.Sum(c12), Vector512.Sum(c13));
        Store(c, 2, ldc, mm, nn, Vector512.Sum(c20), Vector512.Sum(c21), Vector512.Sum(c22), Vector512.Sum(c23));
        Store(c, 3, ldc, mm, nn, Vector512.Sum(c30), Vector512.Sum(c31), Vector512.Sum(c32), Vector512.Sum(c33));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block256(float* a, float* w, float* c, int K, int ldc, int mm, int nn)
    {
        float* a0 = a, a1 = a + K * Math.Min(1, mm - 1), a2 = a + K * Math.Min(2, mm - 1), a3 = a + K * Math.Min(3, mm - 1);
        float* w0 = w, w1 = w + K * Math.Min(1, nn - 1), w2 = w + K * Math.Min(2, nn - 1), w3 = w + K * Math.Min(3, nn - 1);
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int k = 0; k < K; k += 8)
        {
            var x0 = Vector256.Load(w0 + k); var x1 = Vector256.Load(w1 + k); var x2 = Vector256.Load(w2 + k); var x3 = Vector256.Load(w3 + k);
            var y = Vector256.Load(a0 + k);
            c00 = Vector256.FusedMultiplyAdd(y, x0, c00); c01 = Vector256.FusedMultiplyAdd(y, x1, c01); c02 = Vector256.FusedMultiplyAdd(y, x2, c02); c03 = Vector256.FusedMultiplyAdd(y, x3, c03);
            y = Vector256.Load(a1 + k);
            c10 = Vector256.FusedMultiplyAdd(y, x0, c10); c11 = Vector256.FusedMultiplyAdd(y, x1, c11); c12 = Vector256.FusedMultiplyAdd(y, x2, c12); c13 = Vector256.FusedMultiplyAdd(y, x3, c13);
            y = Vector256.Load(a2 + k);
            c20 = Vector256.FusedMultiplyAdd(y, x0, c20); c21 = Vector256.FusedMultiplyAdd(y, x1, c21); c22 = Vector256.FusedMultiplyAdd(y, x2, c22); c23 = Vector256.FusedMultiplyAdd(y, x3, c23);
            y = Vector256.Load(a3 + k);
            c30 = Vector256.FusedMultiplyAdd(y, x0, c30); c31 = Vector256.FusedMultiplyAdd(y, x1, c31); c32 = Vector256.FusedMultiplyAdd(y, x2, c32); c33 = Vector256.FusedMultiplyAdd(y, x3, c33);
        }
        Store(c, 0, ldc, mm, nn, Vector256.Sum(c00), Vector256.Sum(c01), Vector256.Sum(c02), Vector256.Sum(c03));
        Store(c, 1, ldc, mm, nn, Vector256.Sum(c10), Vector256.Sum(c11), Vector256.Sum(c12), Vector256.Sum(c13));
        Store(c, 2, ldc, mm, nn, Vector256.Sum(c20), Vector256.Sum(c21), Vector256.Sum(c22), Vector256.Sum(c23));
        Store(c, 3, ldc, mm, nn, Vector256.Sum(c30), Vector256.Sum(c31), Vector256.Sum(c32), Vector256.Sum(c33));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* c, int row, int ldc, int mm, int nn, float v0, float v1, float v2, float v3)
    {
        if (row >= mm) return;
        float* r = c + (long)row * ldc;
        r[0] = v0;
        if (nn > 1) r[1] = v1;
        if (nn > 2) r[2] = v2;
        if (nn > 3) r[3] = v3;
    }
}
