// cuBLAS SGEMM on the same row-major buffers as MatMulKernels.Sgemm, through ILGPU.Algorithms' CuBlas
// wrapper: the in-process performance anchor for the GEMM benchmarks. CUDA only; there is no CPU
// fallback on purpose (the benchmark must compare against the vendor library or not at all).
// Used by bench/ (nanombpo bench gemm --device cuda); tested by MatMulKernelTests.CuBlas_Cuda.
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo.Kernels;

public sealed class CuBlasAnchor : IDisposable
{
    readonly CuBlas blas;

    public CuBlasAnchor(Accelerator accelerator)
    {
        if (accelerator is not CudaAccelerator cuda)
            throw new ArgumentException(
                $"cuBLAS needs a CUDA accelerator, got {accelerator.AcceleratorType} ({accelerator.Name})", nameof(accelerator));
        blas = new CuBlas(cuda);
    }

    /// <summary>C (M,N) = alpha op(A) op(B) + beta C, row-major, same arguments as KernelLauncher.Sgemm.
    /// cuBLAS is column-major, and a row-major C is a column-major Cᵀ = op(B)ᵀ op(A)ᵀ, so the operands
    /// and M/N swap while the transpose flags keep their meaning.</summary>
    public void Sgemm(ArrayView<float> c, ArrayView<float> a, ArrayView<float> b, int m, int n, int k,
        bool transA = false, bool transB = false, float alpha = 1f, float beta = 0f, int lda = 0, int ldb = 0, int ldc = 0)
    {
        if (lda == 0) lda = transA ? m : k;
        if (ldb == 0) ldb = transB ? k : n;
        if (ldc == 0) ldc = n;
        blas.Gemm(transB ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
            transA ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
            n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
    }

    /// <summary>Use the TF32 tensor-core path for float32 GEMMs (the anchor for a TF32 kernel).
    /// ILGPU's enum stops at TensorOpMath (1, which for SGEMM means FP16 down-conversion), so the
    /// cuBLAS 11+ value CUBLAS_TF32_TENSOR_OP_MATH = 3 is passed through a cast. Unverified on a GPU.</summary>
    public void AllowTf32(bool allow) =>
        blas.MathMode = allow ? (CuBlasMathMode)3 : CuBlasMathMode.DefaultMath;

    public void Dispose() => blas.Dispose();
}
