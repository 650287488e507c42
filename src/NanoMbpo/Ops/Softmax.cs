// Softmax along an axis, stable: y = exp(x − max) / Σ exp(x − max). Backward: dx = y ⊙ (dy − Σ dy⊙y).
// The last axis (attention rows) runs contiguous rows through TensorPrimitives, rows split over
// CpuThreads; other axes combine rows of the trailing dims elementwise. Gradient check: catalog
// "softmax*"; tests: tests/NanoMbpo.Tests/Ops/SoftmaxTests.cs; benchmark: bench/NanoMbpo.Bench/SoftmaxBench.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Softmax(Tensor x, int axis = -1)
    {
        var s = AxisSplit.Of(x, axis, "softmax");
        var y = Tensor.Zeros(x.Shape, x.DType);
        Cpu.CpuThreads.For(s.Outer, Math.Max(1, Elementwise.Grain / Math.Max(1, s.N * s.Inner)), (o0, o1) =>
        {
            if (x.DType == DType.F32) SoftmaxForward<float>(s, x.F32, y.F32, o0, o1);
            else SoftmaxForward<double>(s, x.F64, y.F64, o0, o1);
        });
        return Autograd.Record(y, "softmax", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) x.GradData<float>(); else x.GradData<double>();
            Cpu.CpuThreads.For(s.Outer, Math.Max(1, Elementwise.Grain / Math.Max(1, s.N * s.Inner)), (o0, o1) =>
            {
                if (x.DType == DType.F32) SoftmaxBackward<float>(s, y.F32, dy.F32, x.Grad!.F32, o0, o1);
                else SoftmaxBackward<double>(s, y.F64, dy.F64, x.Grad!.F64, o0, o1);
            });
        }, x);
    }

    static void SoftmaxForward<T>(AxisSplit s, ReadOnlySpan<T> x, Span<T> y, int o0, int o1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        if (n == 0) return;
        var m = inner == 1 ? [] : new T[inner]; var sum = inner == 1 ? [] : new T[inner];
        for (int o = o0; o < o1; o++)
        {
            var xb = x.Slice(o * blk, blk); var yb = y.Slice(o * blk, blk);
            if (inner == 1)
            {
                T max = TensorPrimitives.Max(xb);
                TensorPrimitives.Subtract(xb, max, yb);
                TensorPrimitives.Exp(yb, yb);
                TensorPrimitives.Multiply(yb, T.One / TensorPrimitives.Sum<T>(yb), yb);
                continue;
            }
            xb[..inner].CopyTo(m);
            for (int a = 1; a < n; a++) TensorPrimitives.Max(m, xb.Slice(a * inner, inner), m);
            sum.AsSpan().Clear();
            for (int a = 0; a < n; a++)
            {
                var yr = yb.Slice(a * inner, inner);
                TensorPrimitives.Subtract(xb.Slice(a * inner, inner), m, yr);
                TensorPrimitives.Exp(yr, yr);
                TensorPrimitives.Add(sum, yr, sum);
            }
            TensorPrimitives.Reciprocal(sum, sum);
            for (int a = 0; a < n; a++) { var yr = yb.Slice(a * inner, inner); TensorPrimitives.Multiply(yr, sum, yr); }
        }
    }

    static void SoftmaxBackward<T>(AxisSplit s, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx, int o0, int o1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner, blk = n * inner;
        var tmp = new T[inner == 1 ? n : inner];
        var dot = inner == 1 ? [] : new T[inner];
        for (int o = o0; o < o1; o++)
        {
            var yb = y.Slice(o * blk, blk); var gb = g.Slice(o * blk, blk); var db = dx.Slice(o * blk, blk);
            if (inner == 1)
            {
                T d = TensorPrimitives.Dot(gb, yb);
                TensorPrimitives.Subtract(gb, d, tmp);
                TensorPrimitives.MultiplyAdd(yb, tmp, db, db);
                continue;
            }
            dot.AsSpan().Clear();
            for (int a = 0; a < n; a++) TensorPrimitives.MultiplyAdd(gb.Slice(a * inner, inner), yb.Slice(a * inner, inner), dot, dot);
            for (int a = 0; a < n; a++)
            {
                var dr = db.Slice(a * inner, inner);
                TensorPrimitives.Subtract(gb.Slice(a * inner, inner), dot, tmp);
                TensorPrimitives.MultiplyAdd(yb.Slice(a * inner, inner), tmp, dr, dr);
            }
        }
    }

    [GradCases]
    static IEnumerable<GradCase> SoftmaxCases()
    {
        yield return GradCase.Ranged("softmax", -2, 2, x => Softmax(x[0]), [3, 5]);
        yield return GradCase.Ranged("softmax_axis0", -2, 2, x => Softmax(x[0], 0), [4, 3]);
        yield return GradCase.Ranged("softmax_middle", -2, 2, x => Softmax(x[0], 1), [2, 3, 4]);
        yield return GradCase.Ranged("softmax_4d", -2, 2, x => Softmax(x[0]), [2, 2, 2, 3]);
    }
}
