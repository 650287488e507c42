// PLACEHOLDER SGEMM (naive) with the final API; replaced by the cache-blocked AVX-512 kernel.
using System.Runtime.CompilerServices;

namespace NanoMbpo.Cpu;

public static unsafe class Sgemm
{
    public static void Run(bool transA, bool transB, int M, int N, int K, float alpha, float* A, int lda, float* B, int ldb, float beta, float* C, int ldc)
    {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
            {
                float s = 0;
                for (int k = 0; k < K; k++)
                    s += (transA ? A[k * lda + i] : A[i * lda + k]) * (transB ? B[j * ldb + k] : B[k * ldb + j]);
                C[i * ldc + j] = beta == 0 ? alpha * s : alpha * s + beta * C[i * ldc + j];
            }
    }

    public static void Run(bool transA, bool transB, int M, int N, int K, float alpha, ReadOnlySpan<float> A, int lda, ReadOnlySpan<float> B, int ldb, float beta, Span<float> C, int ldc)
    {
        fixed (float* a = A) fixed (float* b = B) fixed (float* c = C)
            Run(transA, transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    public static void RunBatched(bool transA, bool transB, int batch, int M, int N, int K, float alpha, float* A, int lda, long strideA, float* B, int ldb, long strideB, float beta, float* C, int ldc, long strideC)
    {
        for (int b = 0; b < batch; b++)
            Run(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta, C + b * strideC, ldc);
    }
}

public static class CpuThreads
{
    public static int Count { get; set; } = Environment.ProcessorCount;
    public static void For(int n, int grainSize, Action<int, int> body) => body(0, n);
}
