// Reshape: the same elements under a new shape. Storage is contiguous row-major, so the result is a
// zero-copy view sharing x's storage; backward adds dy (already in x's element order) into dx.
// One dimension may be -1 (inferred). Works for I32 tensors too (ids). Gradient check: catalog
// "reshape*"; tests: tests/NanoMbpo.Tests/Ops/ShapeOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>x viewed as <paramref name="shape"/> (one entry may be -1) → same element count.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        var target = ResolveReshape(x, shape);
        var y = new Tensor(x.Storage, x.Offset, target, x.DType);
        if (!x.IsFloat) return y;
        return Autograd.Record(y, "reshape", dy =>
        {
            if (!x.RequiresGrad) return;
            if (!x.Device.IsCpu) { Dev.Accumulate(x, dy); return; }
            if (x.DType == DType.F32) ReshapeAddGrad<float>(x.GradData<float>(), dy.F32);
            else ReshapeAddGrad<double>(x.GradData<double>(), dy.F64);
        }, x);
    }

    static int[] ResolveReshape(Tensor x, int[] shape)
    {
        var target = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"reshape: only one -1 is allowed in shape {ShapeUtil.Format(shape)} (x{x.ShapeString}).", nameof(shape));
                infer = i;
            }
            else if (target[i] < 0) throw new ArgumentException($"reshape: negative dimension {target[i]} in shape {ShapeUtil.Format(shape)} (x{x.ShapeString}).", nameof(shape));
            else known *= target[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || x.Length % known != 0)
                throw new ArgumentException($"reshape: cannot infer -1 in shape {ShapeUtil.Format(shape)} for x{x.ShapeString} ({x.Length} elements).", nameof(shape));
            target[infer] = (int)(x.Length / known);
        }
        else if (known != x.Length)
            throw new ArgumentException($"reshape: x{x.ShapeString} has {x.Length} elements but shape {ShapeUtil.Format(shape)} needs {known}.", nameof(shape));
        return target;
    }

    static void ReshapeAddGrad<T>(Span<T> dst, ReadOnlySpan<T> src) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Add(dst, src, dst);

    [GradCases(Op = "reshape", Cpu = nameof(Reshape), Tolerance = ToleranceClass.Accumulating,
        Composite = "a view of the same storage; its gradient is added with the axpy kernel")]
    static IEnumerable<GradCase> ReshapeCases()
    {
        yield return GradCase.Simple("reshape", x => Reshape(x[0], 4, -1), [2, 3, 2]);
        // Chained with a matmul so the view's gradient must flow on through a real op.
        yield return GradCase.Simple("reshape_then_matmul", x => MatMul(Reshape(x[0], -1, x[1].Shape[0]), x[1]), [2, 2, 3], [3, 2]);
    }
}
