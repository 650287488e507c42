// Views a tensor as (Outer, N, Inner) around one axis, the layout every axis op (sum/mean/max,
// softmax, log_softmax) loops over: Inner == 1 (the last axis) is the fast contiguous-row case;
// otherwise rows of Inner contiguous elements are combined elementwise with TensorPrimitives.
namespace NanoMbpo;

internal readonly record struct AxisSplit(int Outer, int N, int Inner, int Axis)
{
    public static AxisSplit Of(Tensor x, int axis, string op)
    {
        OpCheck.Float(x, op, "x");
        if (x.Rank == 0 || axis < -x.Rank || axis >= x.Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: axis {axis} is out of range for x{x.ShapeString} (rank {x.Rank}).");
        int a = axis < 0 ? axis + x.Rank : axis;
        int outer = ShapeUtil.Numel(x.Shape.AsSpan(0, a)), inner = ShapeUtil.Numel(x.Shape.AsSpan(a + 1));
        return new AxisSplit(outer, x.Shape[a], inner, a);
    }

    /// <summary>The shape after reducing this axis (kept as 1 with <paramref name="keepDim"/>).</summary>
    public int[] ReducedShape(int[] shape, bool keepDim)
    {
        if (keepDim) { var s = (int[])shape.Clone(); s[Axis] = 1; return s; }
        return [.. shape[..Axis], .. shape[(Axis + 1)..]];
    }
}
