// Slice: `length` consecutive entries of one axis starting at `start`, copied into a contiguous
// tensor (a strided view would break the contiguous-storage invariant). Backward adds dy into the
// matching window of dx. Works for I32 tensors too. Gradient check: catalog "slice*"; tests:
// tests/NanoMbpo.Tests/Ops/ShapeOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x[..., start:start+length, ...] along <paramref name="axis"/>.</summary>
    public static Tensor Slice(Tensor x, int axis, int start, int length)
    {
        if (x.Rank == 0) throw new ArgumentException($"slice: x{x.ShapeString} has no axis to slice.", nameof(x));
        int ax = axis < 0 ? axis + x.Rank : axis;
        if (ax < 0 || ax >= x.Rank) throw new ArgumentOutOfRangeException(nameof(axis), $"slice: axis {axis} is out of range for x{x.ShapeString}.");
        int size = x.Shape[ax];
        if (start < 0 || length < 0 || (long)start + length > size)
            throw new ArgumentOutOfRangeException(nameof(start), $"slice: window start {start} length {length} does not fit axis {axis} of size {size} in x{x.ShapeString}.");
        var outShape = (int[])x.Shape.Clone();
        outShape[ax] = length;
        int outer = ShapeUtil.Numel(x.Shape.AsSpan(0, ax)), inner = ShapeUtil.Numel(x.Shape.AsSpan(ax + 1));
        if (!x.Device.IsCpu) return SliceOnDevice(x, outShape, outer, inner, size, start, length);
        var y = Tensor.Zeros(outShape, x.DType);
        switch (x.DType)
        {
            case DType.F32: SliceCore<float>(x.F32, y.F32, outer, inner, size, start, length, false); break;
            case DType.F64: SliceCore<double>(x.F64, y.F64, outer, inner, size, start, length, false); break;
            default: SliceCore<int>(x.I32, y.I32, outer, inner, size, start, length, false); return y;
        }
        return Autograd.Record(y, "slice", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) SliceCore<float>(x.GradData<float>(), dy.F32, outer, inner, size, start, length, true);
            else SliceCore<double>(x.GradData<double>(), dy.F64, outer, inner, size, start, length, true);
        }, x);
    }

    /// <summary>Device twin: one window-copy kernel each way; the backward adds dy into x's gradient
    /// window (the rest of dx is untouched, so it accumulates into a zeroed or existing buffer).</summary>
    static Tensor SliceOnDevice(Tensor x, int[] outShape, int outer, int inner, int size, int start, int length)
    {
        if (x.DType != DType.F32) throw Dev.Unsupported("slice", x.Device, $"x is {x.DType} and the window-copy kernel is float32");
        var l = Dev.L(x);
        var y = Dev.Empty(outShape, x.Device);
        l.WindowCopy(Dev.V(y), Dev.V(x), outer, inner, size, start, length, 0, length, accumulate: false);
        return Autograd.Record(y, "slice", dy =>
        {
            if (!x.RequiresGrad) return;
            l.WindowCopy(Dev.GradAccum(x), Dev.V(dy), outer, inner, length, 0, size, start, length, accumulate: true);
        }, x);
    }

    /// <summary>Forward: part = whole window. Backward: whole window += part.</summary>
    static void SliceCore<T>(Span<T> whole, Span<T> part, int outer, int inner, int size, int start, int length, bool backward)
        where T : unmanaged, INumber<T>
    {
        int len = length * inner;
        for (int o = 0; o < outer; o++)
        {
            var w = whole.Slice((o * size + start) * inner, len);
            var p = part.Slice(o * len, len);
            if (backward) TensorPrimitives.Add(w, p, w); else w.CopyTo(p);
        }
    }

    [GradCases(Op = "slice", Cpu = nameof(Slice), Tolerance = ToleranceClass.Pointwise, Kernels = "SliceKernels")]
    static IEnumerable<GradCase> SliceCases()
    {
        yield return GradCase.Simple("slice_last", x => Slice(x[0], -1, 1, 3), [2, 5]);
        yield return GradCase.Simple("slice_middle", x => Slice(x[0], 1, 2, 2), [2, 5, 3]);
        yield return GradCase.Simple("slice_first", x => Slice(x[0], 0, 0, 1), [3, 2]);
    }
}
