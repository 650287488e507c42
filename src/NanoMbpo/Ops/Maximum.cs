// Maximum: elementwise max(a, b) with broadcasting (Broadcast.cs). NaN propagates
// (TensorPrimitives.Max, as torch.maximum). Backward as torch: the gradient goes to the larger
// operand, split in halves on ties (shared with Minimum.cs), summed over broadcast dims.
// Gradient check: catalog "maximum*"; tests: tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Maximum(Tensor a, Tensor b)
    {
        var plan = Broadcast.Plan(a, b, "maximum");
        if (Dev.OnDevice("maximum", a, b)) return Dev.Binary<Kernels.MaximumOp>(a, b, plan.OutShape, "maximum");
        var y = Tensor.Zeros(plan.OutShape, a.DType);
        if (a.DType == DType.F32) plan.Apply<float, MaxOp>(a.F32, b.F32, y.F32);
        else plan.Apply<double, MaxOp>(a.F64, b.F64, y.F64);
        return Autograd.Record(y, "maximum", dy =>
        {
            if (a.DType == DType.F32) MinMaxBackward<float>(plan, a, b, dy, false);
            else MinMaxBackward<double>(plan, a, b, dy, false);
        }, a, b);
    }

    [GradCases(Op = "maximum", Cpu = nameof(Maximum), Tolerance = ToleranceClass.Pointwise, Kernels = "BroadcastKernels")]
    static IEnumerable<GradCase> MaximumCases()
    {
        yield return GradCase.Simple("maximum", x => Maximum(x[0], x[1]), [3, 5], [3, 5]);
        yield return GradCase.Simple("maximum_row_rev", x => Maximum(x[0], x[1]), [4], [2, 3, 4]);
        yield return GradCase.Simple("maximum_col", x => Maximum(x[0], x[1]), [4, 3], [4, 1]);
    }
}

/// <summary>Span kernel for maximum.</summary>
internal struct MaxOp : IBinarySpanOp
{
    public static void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Max(a, b, o);
    public static void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Max(a, b, o);
    public static void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Max(b, a, o);
}
