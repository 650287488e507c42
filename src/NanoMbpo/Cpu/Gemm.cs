// Generic GEMM entry for ops: float32 goes to the blocked SIMD SGEMM, float64 (gradient checks only,
// small shapes) to a plain loop with the same contract. Row-major, batched with element strides.
using System.Numerics;

namespace NanoMbpo.Cpu;

internal static unsafe class Gemm
{
    /// <summary>For each batch b: C_b(M,N) = alpha * op(A_b)(M,K) · op(B_b)(K,N) + beta * C_b.</summary>
    public static void Run<T>(bool transA, bool transB, int batch, int M, int N, int K, T alpha,
        ReadOnlySpan<T> A, int lda, long strideA, ReadOnlySpan<T> B, int ldb, long strideB,
        T beta, Span<T> C, int ldc, long strideC) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch == 0 || M == 0 || N == 0) return;
        if (typeof(T) == typeof(float))
        {
            fixed (T* a = A) fixed (T* b = B) fixed (T* c = C)
                Sgemm.RunBatched(transA, transB, batch, M, N, K, float.CreateTruncating(alpha), (float*)a, lda, strideA,
                    (float*)b, ldb, strideB, float.CreateTruncating(beta), (float*)c, ldc, strideC);
            return;
        }
        for (int bt = 0; bt < batch; bt++)
        {
            var a = A[(int)(bt * strideA)..];
            var b = B[(int)(bt * strideB)..];
            var c = C[(int)(bt * strideC)..];
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++)
                {
                    T s = T.Zero;
                    for (int k = 0; k < K; k++)
                        s += (transA ? a[k * lda + i] : a[i * lda + k]) * (transB ? b[j * ldb + k] : b[k * ldb + j]);
                    c[i * ldc + j] = beta == T.Zero ? alpha * s : alpha * s + beta * c[i * ldc + j];
                }
        }
    }
}
