// Div: a / b with broadcasting (Broadcast.cs). Backward: da = dy / b, db = −dy ⊙ y / b (y = a/b,
// saved by the forward), each summed over that operand's broadcast dims. Also the Tensor operators /
// (tensor or double on either side). Gradient check: catalog "div*" (b kept away from 0);
// tests: tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>a / b (elementwise), broadcasting as torch.</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        var plan = Broadcast.Plan(a, b, "div");
        if (Dev.OnDevice("div", a, b)) return Dev.Binary<Kernels.DivOp>(a, b, plan.OutShape, "div");
        var y = Tensor.Zeros(plan.OutShape, a.DType);
        if (a.DType == DType.F32) plan.Apply<float, DivOp>(a.F32, b.F32, y.F32);
        else plan.Apply<double, DivOp>(a.F64, b.F64, y.F64);
        return Autograd.Record(y, "div", dy =>
        {
            if (a.DType == DType.F32) DivBackward<float>(plan, a, b, y, dy);
            else DivBackward<double>(plan, a, b, y, dy);
        }, a, b);
    }

    static void DivBackward<T>(Broadcast plan, Tensor a, Tensor b, Tensor y, Tensor dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = dy.Data<T>();
        var tmp = NN.TensorArena.Scratch<T>(plan.OutLength);
        if (a.RequiresGrad)
        {
            plan.ApplyFull<T, DivOp>(g, b.Data<T>(), false, tmp);
            plan.ReduceInto<T>(tmp, true, a.GradData<T>(), T.One);
        }
        if (b.RequiresGrad)
        {
            TensorPrimitives.Multiply(g, y.Data<T>(), tmp);
            plan.ApplyFull<T, DivOp>(tmp, b.Data<T>(), false, tmp);
            plan.ReduceInto<T>(tmp, false, b.GradData<T>(), -T.One);
        }
    }

    [GradCases(Op = "div", Cpu = nameof(Div), Tolerance = ToleranceClass.Pointwise,
        Kernels = "BroadcastKernels ScalarKernels")]
    static IEnumerable<GradCase> DivCases()
    {
        // Denominators in [0.5, 1.5]: far from the pole at 0.
        yield return GradCase.Ranged("div", 0.5, 1.5, x => Div(x[0], x[1]), [3, 4], [3, 4]);
        yield return GradCase.Ranged("div_row", 0.5, 1.5, x => Div(x[0], x[1]), [2, 3, 4], [4]);
        yield return GradCase.Ranged("div_col", 0.5, 1.5, x => Div(x[0], x[1]), [2, 3, 4], [2, 3, 1]);
        yield return GradCase.Ranged("div_row_rev", 0.5, 1.5, x => Div(x[0], x[1]), [4], [3, 4]);
        yield return GradCase.Ranged("div_scalar_b", 0.5, 1.5, x => Div(x[0], x[1]), [3, 4], []);
        yield return GradCase.Ranged("div_scalar_ops", 0.5, 1.5, x => 2.0 / x[0] + x[0] / 4.0, [2, 3]);
    }
}

/// <summary>Span kernel for div.</summary>
internal struct DivOp : IBinarySpanOp
{
    public static void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Divide(a, b, o);
    public static void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Divide(a, b, o);
    public static void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Divide(a, b, o);
}

public sealed partial class Tensor
{
    public static Tensor operator /(Tensor a, Tensor b) => F.Div(a, b);
    public static Tensor operator /(Tensor a, double s) => F.Div(a, Scalar(s, a.DType).To(a.Device));
    public static Tensor operator /(double s, Tensor a) => F.Div(Scalar(s, a.DType).To(a.Device), a);
}
