// MatMul: C = op(A) · op(B) with transpose flags, plain (leading dims of A folded into rows when B
// is 2-D) or batched (equal leading dims). Forward and the backward of both operands are GEMM calls
// with the transpose flags derived below. Gradient check: GradCheck catalog "matmul*"; fixture:
// tests/fixtures/matmul*.safetensors; benchmark: bench/ Sgemm benchmarks.
using System.Numerics;
using NanoMbpo.Cpu;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>op(a) (..., M, K) · op(b) (K, N) or (..., K, N) → (..., M, N).
    /// With transA, a holds (..., K, M); with transB, b holds (N, K) or (..., N, K).</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        OpCheck.Float(a, "matmul", "a"); OpCheck.SameDType(a, b, "matmul");
        if (a.Rank < 2 || b.Rank < 2) throw new ArgumentException($"matmul needs rank >= 2 operands, got a{a.ShapeString} b{b.ShapeString}.");
        bool folded = b.Rank == 2 && !transA;
        int batch, M, K, N;
        int[] outShape;
        if (folded)
        {
            K = a.Shape[^1]; M = a.Length / Math.Max(K, 1); batch = 1;
            if (K == 0) M = ShapeUtil.Numel(a.Shape.AsSpan(0, a.Rank - 1));
            int kb = transB ? b.Shape[1] : b.Shape[0];
            N = transB ? b.Shape[0] : b.Shape[1];
            if (kb != K) throw new ArgumentException($"matmul: inner dimensions differ, a{a.ShapeString}{(transA ? "ᵀ" : "")} · b{b.ShapeString}{(transB ? "ᵀ" : "")} ({K} vs {kb}).");
            outShape = [.. a.Shape[..^1], N];
        }
        else
        {
            if (a.Rank != b.Rank || !a.Shape.AsSpan(0, a.Rank - 2).SequenceEqual(b.Shape.AsSpan(0, b.Rank - 2)))
                throw new ArgumentException($"batched matmul needs equal leading dimensions, got a{a.ShapeString} b{b.ShapeString}.");
            batch = ShapeUtil.Numel(a.Shape.AsSpan(0, a.Rank - 2));
            M = transA ? a.Shape[^1] : a.Shape[^2]; K = transA ? a.Shape[^2] : a.Shape[^1];
            int kb = transB ? b.Shape[^1] : b.Shape[^2];
            N = transB ? b.Shape[^2] : b.Shape[^1];
            if (kb != K) throw new ArgumentException($"matmul: inner dimensions differ, a{a.ShapeString}{(transA ? "ᵀ" : "")} · b{b.ShapeString}{(transB ? "ᵀ" : "")} ({K} vs {kb}).");
            outShape = [.. a.Shape[..^2], M, N];
        }
        long sA = (long)M * K, sB = folded ? 0 : (long)K * N, sC = (long)M * N;
        int lda = transA ? M : K, ldb = transB ? K : N;
        if (Dev.OnDevice("matmul", a, b)) return MatMulOnDevice(a, b, outShape, transA, transB, batch, M, N, K, lda, ldb, sA, sB, sC);
        var c = Tensor.Zeros(outShape, a.DType);
        if (a.DType == DType.F32) Forward<float>(a, b, c, transA, transB, batch, M, N, K, lda, ldb, sA, sB, sC);
        else Forward<double>(a, b, c, transA, transB, batch, M, N, K, lda, ldb, sA, sB, sC);

        return Autograd.Record(c, "matmul", dc =>
        {
            if (a.DType == DType.F32) Backward<float>(a, b, dc, transA, transB, batch, M, N, K, lda, ldb, sA, sB, sC);
            else Backward<double>(a, b, dc, transA, transB, batch, M, N, K, lda, ldb, sA, sB, sC);
        }, a, b);
    }

    static void Forward<T>(Tensor a, Tensor b, Tensor c, bool tA, bool tB, int batch, int M, int N, int K, int lda, int ldb, long sA, long sB, long sC)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Gemm.Run<T>(tA, tB, batch, M, N, K, T.One, a.Data<T>(), lda, sA, b.Data<T>(), ldb, sB, T.Zero, c.Data<T>(), N, sC);

    static void Backward<T>(Tensor a, Tensor b, Tensor dc, bool tA, bool tB, int batch, int M, int N, int K, int lda, int ldb, long sA, long sB, long sC)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = dc.Data<T>();
        if (a.RequiresGrad)
        {
            // d op(A) = dC · op(B)ᵀ. Stored A is op(A) itself, or its transpose: then dA = op(B) · dCᵀ.
            if (!tA) Gemm.Run<T>(false, !tB, batch, M, K, N, T.One, g, N, sC, b.Data<T>(), ldb, sB, T.One, a.GradData<T>(), lda, sA);
            else Gemm.Run<T>(tB, true, batch, K, M, N, T.One, b.Data<T>(), ldb, sB, g, N, sC, T.One, a.GradData<T>(), lda, sA);
        }
        if (b.RequiresGrad)
        {
            // d op(B) = op(A)ᵀ · dC; when B is broadcast over the batch (folded), the batch sums into it.
            int bb = sB == 0 ? 1 : batch;
            int mm = sB == 0 ? M * batch : M;
            if (!tB) Gemm.Run<T>(!tA, false, bb, K, N, mm, T.One, a.Data<T>(), lda, sA, g, N, sC, T.One, b.GradData<T>(), ldb, sB);
            else Gemm.Run<T>(true, tA, bb, N, K, mm, T.One, g, N, sC, a.Data<T>(), lda, sA, T.One, b.GradData<T>(), ldb, sB);
        }
    }

    /// <summary>Device twin: the same GEMMs with the SGEMM kernel; gradients accumulate through beta = 1.</summary>
    static Tensor MatMulOnDevice(Tensor a, Tensor b, int[] outShape, bool tA, bool tB, int batch, int M, int N, int K, int lda, int ldb, long sA, long sB, long sC)
    {
        Dev.F32("matmul", a, b);
        var l = Dev.L(a);
        var c = Dev.Empty(outShape, a.Device);
        Dev.Gemm(l, tA, tB, batch, M, N, K, 1f, Dev.V(a), lda, sA, Dev.V(b), ldb, sB, 0f, Dev.V(c), N, sC);
        return Autograd.Record(c, "matmul", dc =>
        {
            var g = Dev.V(dc);
            if (a.RequiresGrad)
            {
                if (!tA) Dev.Gemm(l, false, !tB, batch, M, K, N, 1f, g, N, sC, Dev.V(b), ldb, sB, 1f, Dev.GradAccum(a), lda, sA);
                else Dev.Gemm(l, tB, true, batch, K, M, N, 1f, Dev.V(b), ldb, sB, g, N, sC, 1f, Dev.GradAccum(a), lda, sA);
            }
            if (b.RequiresGrad)
            {
                int bb = sB == 0 ? 1 : batch, mm = sB == 0 ? M * batch : M;
                if (!tB) Dev.Gemm(l, !tA, false, bb, K, N, mm, 1f, Dev.V(a), lda, sA, g, N, sC, 1f, Dev.GradAccum(b), ldb, sB);
                else Dev.Gemm(l, true, tA, bb, N, K, mm, 1f, g, N, sC, Dev.V(a), lda, sA, 1f, Dev.GradAccum(b), ldb, sB);
            }
        }, a, b);
    }

    [GradCases(Op = "matmul", Cpu = nameof(MatMul), Tolerance = ToleranceClass.Accumulating,
        Kernels = "MatMulKernels MatMulTf32Kernels")]
    static IEnumerable<GradCase> MatMulCases()
    {
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            int[] sa = ta ? [4, 3] : [3, 4], sb = tb ? [5, 4] : [4, 5];
            yield return GradCase.Simple($"matmul{(ta ? "_tA" : "")}{(tb ? "_tB" : "")}", x => MatMul(x[0], x[1], ta, tb), sa, sb);
            int[] ba = ta ? [2, 4, 3] : [2, 3, 4], bb = tb ? [2, 5, 4] : [2, 4, 5];
            yield return GradCase.Simple($"bmm{(ta ? "_tA" : "")}{(tb ? "_tB" : "")}", x => MatMul(x[0], x[1], ta, tb), ba, bb);
        }
        yield return GradCase.Simple("matmul_folded", x => MatMul(x[0], x[1], false, true), [2, 3, 4], [5, 4]);
    }
}
