// Sum over one axis: F.Sum(x, axis, keepDim). Forward: contiguous rows use TensorPrimitives.Sum;
// an inner axis adds whole rows of the trailing dims elementwise. Backward broadcasts dy back along
// the axis. Gradient check: catalog "sum_axis*"; tests: tests/NanoMbpo.Tests/Ops/ReduceTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>Sum of x along <paramref name="axis"/> (negative counts from the end).</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepDim = false)
    {
        var s = AxisSplit.Of(x, axis, "sum");
        if (!x.Device.IsCpu) return ReduceSumOnDevice(x, s, keepDim, false, "sum_axis");
        var y = Tensor.Zeros(s.ReducedShape(x.Shape, keepDim), x.DType);
        if (x.DType == DType.F32) ReduceSumForward<float>(s, x.F32, y.F32, 1f);
        else ReduceSumForward<double>(s, x.F64, y.F64, 1.0);
        return Autograd.Record(y, "sum_axis", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) ReduceSumBackward<float>(s, dy.F32, x.GradData<float>(), 1f);
            else ReduceSumBackward<double>(s, dy.F64, x.GradData<double>(), 1.0);
        }, x);
    }

    /// <summary>y(Outer,Inner) = scale · Σ over N of x(Outer,N,Inner). Shared with Mean.</summary>
    internal static void ReduceSumForward<T>(AxisSplit s, ReadOnlySpan<T> x, Span<T> y, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner;
        for (int o = 0; o < s.Outer; o++)
        {
            if (inner == 1) { y[o] = scale * TensorPrimitives.Sum(x.Slice(o * n, n)); continue; }
            var acc = y.Slice(o * inner, inner);
            for (int a = 0; a < n; a++) TensorPrimitives.Add(acc, x.Slice((o * n + a) * inner, inner), acc);
            if (scale != T.One) TensorPrimitives.Multiply(acc, scale, acc);
        }
    }

    /// <summary>dx(Outer,N,Inner) += scale · dy(Outer,Inner) broadcast along N. Shared with Mean.</summary>
    internal static void ReduceSumBackward<T>(AxisSplit s, ReadOnlySpan<T> dy, Span<T> dx, T scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner;
        for (int o = 0; o < s.Outer; o++)
        {
            if (inner == 1) { var row = dx.Slice(o * n, n); TensorPrimitives.Add(row, scale * dy[o], row); continue; }
            var g = dy.Slice(o * inner, inner);
            for (int a = 0; a < n; a++)
            {
                var d = dx.Slice((o * n + a) * inner, inner);
                TensorPrimitives.MultiplyAdd(g, scale, d, d);
            }
        }
    }

    /// <summary>Device twin of Sum/Mean over an axis: the last axis uses the group-reduction row
    /// kernel, an inner axis a thread per output summing in index order. Shared with Mean.</summary>
    internal static Tensor ReduceSumOnDevice(Tensor x, AxisSplit s, bool keepDim, bool mean, string op)
    {
        Dev.F32(op, x);
        var l = Dev.L(x);
        var y = Dev.Empty(s.ReducedShape(x.Shape, keepDim), x.Device);
        float scale = mean ? 1f / s.N : 1f;
        if (y.Length > 0)
        {
            if (s.N == 0) l.Fill(Dev.V(y), mean ? float.NaN : 0f);
            else if (s.Inner == 1) l.SumLastAxis(Dev.V(y), Dev.V(x), s.Outer, s.N, mean);
            else l.AxisSum(Dev.V(y), Dev.V(x), s.Outer, s.N, s.Inner, scale);
        }
        return Autograd.Record(y, op, dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var g = Dev.Sink(x);
            if (s.Inner == 1) l.SumLastAxisBackward(g.View, Dev.V(dy), s.Outer, s.N, mean);
            else l.AxisSumBackward(g.View, Dev.V(dy), s.Outer, s.N, s.Inner, scale);
        }, x);
    }

    [GradCases(Op = "sum", Cpu = nameof(Sum), Tolerance = ToleranceClass.Accumulating,
        Kernels = "ScalarKernels ReduceKernels")]
    static IEnumerable<GradCase> ReduceSumCases()
    {
        yield return GradCase.Simple("sum_axis_last", x => Sum(x[0], -1), [3, 4]);
        yield return GradCase.Simple("sum_axis_first_keep", x => Sum(x[0], 0, true), [3, 4]);
        yield return GradCase.Simple("sum_axis_middle", x => Sum(x[0], 1), [2, 3, 4]);
        yield return GradCase.Simple("sum_axis_1d", x => Sum(x[0], 0), [5]);
    }
}
