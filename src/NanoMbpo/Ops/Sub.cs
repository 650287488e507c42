// Sub: a − b with broadcasting (Broadcast.cs), and negation. Backward: da = dy, db = −dy, each
// summed over that operand's broadcast dims. Also the Tensor operators − (binary, unary, with a
// double on either side). Gradient check: catalog "sub*", "neg"; tests: tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>a − b, broadcasting as torch.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var plan = Broadcast.Plan(a, b, "sub");
        if (Dev.OnDevice("sub", a, b)) return Dev.Binary<Kernels.SubOp>(a, b, plan.OutShape, "sub");
        var y = Tensor.Zeros(plan.OutShape, a.DType);
        if (a.DType == DType.F32) plan.Apply<float, SubOp>(a.F32, b.F32, y.F32);
        else plan.Apply<double, SubOp>(a.F64, b.F64, y.F64);
        return Autograd.Record(y, "sub", dy =>
        {
            if (a.DType == DType.F32) SubBackward<float>(plan, a, b, dy);
            else SubBackward<double>(plan, a, b, dy);
        }, a, b);
    }

    static void SubBackward<T>(Broadcast plan, Tensor a, Tensor b, Tensor dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (a.RequiresGrad) plan.ReduceInto<T>(dy.Data<T>(), true, a.GradData<T>(), T.One);
        if (b.RequiresGrad) plan.ReduceInto<T>(dy.Data<T>(), false, b.GradData<T>(), -T.One);
    }

    /// <summary>−x.</summary>
    public static Tensor Neg(Tensor x) => MulScalar(x, -1.0);

    [GradCases(Op = "sub", Cpu = nameof(Sub), Tolerance = ToleranceClass.Pointwise,
        Kernels = "BroadcastKernels ScalarKernels")]
    static IEnumerable<GradCase> SubCases()
    {
        yield return GradCase.Simple("sub", x => Sub(x[0], x[1]), [3, 4], [3, 4]);
        yield return GradCase.Simple("sub_row", x => Sub(x[0], x[1]), [2, 3, 4], [4]);
        yield return GradCase.Simple("sub_col_rev", x => Sub(x[0], x[1]), [2, 3, 1], [2, 3, 4]);
        yield return GradCase.Simple("sub_scalar_a", x => Sub(x[0], x[1]), [], [3, 4]);
        yield return GradCase.Simple("neg", x => -x[0], [2, 3]);
        yield return GradCase.Simple("rsub_scalar", x => 1.0 - x[0], [2, 3]);
    }
}

/// <summary>Span kernel for sub.</summary>
internal struct SubOp : IBinarySpanOp
{
    public static void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Subtract(a, b, o);
    public static void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Subtract(a, b, o);
    public static void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Subtract(a, b, o);
}

public sealed partial class Tensor
{
    public static Tensor operator -(Tensor a, Tensor b) => F.Sub(a, b);
    public static Tensor operator -(Tensor a, double s) => F.AddScalar(a, -s);
    public static Tensor operator -(double s, Tensor a) => F.AddScalar(F.Neg(a), s);
    public static Tensor operator -(Tensor a) => F.Neg(a);
}
