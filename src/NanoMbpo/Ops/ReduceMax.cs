// Max over one axis: F.Max(x, axis, keepDim). Forward records the first arg-max of each slice
// (TensorPrimitives.IndexOfMax on contiguous rows; NaN counts as the maximum, as torch);
// backward routes dy to that element only. Gradient check: catalog "max_axis*" (random inputs
// have no ties); tests: tests/NanoMbpo.Tests/Ops/ReduceTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>Maximum of x along <paramref name="axis"/>; the gradient goes to the first arg-max.</summary>
    public static Tensor Max(Tensor x, int axis, bool keepDim = false)
    {
        var s = AxisSplit.Of(x, axis, "max");
        if (s.N == 0) throw new ArgumentException($"max: axis {axis} of x{x.ShapeString} is empty; the maximum is undefined.", nameof(x));
        if (!x.Device.IsCpu) return MaxOnDevice(x, s, keepDim);
        var y = Tensor.Zeros(s.ReducedShape(x.Shape, keepDim), x.DType);
        var arg = new int[s.Outer * s.Inner];
        if (x.DType == DType.F32) ReduceMaxForward<float>(s, x.F32, y.F32, arg);
        else ReduceMaxForward<double>(s, x.F64, y.F64, arg);
        return Autograd.Record(y, "max_axis", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) ReduceMaxBackward<float>(s, arg, dy.F32, x.GradData<float>());
            else ReduceMaxBackward<double>(s, arg, dy.F64, x.GradData<double>());
        }, x);
    }

    /// <summary>Device twin: a thread per output scans the axis keeping the first arg-max; backward
    /// routes dy to it.</summary>
    static Tensor MaxOnDevice(Tensor x, AxisSplit s, bool keepDim)
    {
        Dev.F32("max", x);
        var l = Dev.L(x);
        var y = Dev.Empty(s.ReducedShape(x.Shape, keepDim), x.Device);
        var arg = Dev.Empty(y.Shape, x.Device, DType.I32);
        l.AxisMax(Dev.V(y), Dev.VI(arg), Dev.V(x), s.Outer, s.N, s.Inner);
        return Autograd.Record(y, "max_axis", dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var g = Dev.Sink(x);
            l.AxisMaxBackward(g.View, Dev.V(dy), Dev.VI(arg), s.Outer, s.N, s.Inner);
        }, x);
    }

    static void ReduceMaxForward<T>(AxisSplit s, ReadOnlySpan<T> x, Span<T> y, int[] arg) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner;
        for (int o = 0; o < s.Outer; o++)
        {
            if (inner == 1)
            {
                var row = x.Slice(o * n, n);
                int k = TensorPrimitives.IndexOfMax(row);
                arg[o] = k; y[o] = row[k];
                continue;
            }
            var best = y.Slice(o * inner, inner);
            x.Slice(o * n * inner, inner).CopyTo(best);
            var idx = arg.AsSpan(o * inner, inner);
            idx.Clear();
            for (int a = 1; a < n; a++)
            {
                var row = x.Slice((o * n + a) * inner, inner);
                for (int i = 0; i < inner; i++)
                {
                    // Strictly greater keeps the first arg-max; a NaN wins once and then stays.
                    if (row[i] > best[i] || (T.IsNaN(row[i]) && !T.IsNaN(best[i]))) { best[i] = row[i]; idx[i] = a; }
                }
            }
        }
    }

    static void ReduceMaxBackward<T>(AxisSplit s, int[] arg, ReadOnlySpan<T> dy, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = s.N, inner = s.Inner;
        for (int o = 0; o < s.Outer; o++)
            for (int i = 0; i < inner; i++)
                dx[(o * n + arg[o * inner + i]) * inner + i] += dy[o * inner + i];
    }

    [GradCases(Op = "max", Cpu = nameof(Max), Tolerance = ToleranceClass.Accumulating,
        Kernels = "ScalarKernels ReduceKernels")]
    static IEnumerable<GradCase> ReduceMaxCases()
    {
        yield return GradCase.Simple("max_axis_last", x => Max(x[0], -1), [3, 4]);
        yield return GradCase.Simple("max_axis_first_keep", x => Max(x[0], 0, true), [3, 4]);
        yield return GradCase.Simple("max_axis_middle", x => Max(x[0], 1), [2, 3, 4]);
    }
}
