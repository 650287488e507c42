// Mul: a ⊙ b with broadcasting (Broadcast.cs), and x · scalar. Backward: da = dy ⊙ b, db = dy ⊙ a,
// each summed over that operand's broadcast dims. Also the Tensor operators * (tensor or double on
// either side). Gradient check: catalog "mul*"; tests: tests/NanoMbpo.Tests/Ops/BinaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>a ⊙ b (elementwise), broadcasting as torch.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var plan = Broadcast.Plan(a, b, "mul");
        if (Dev.OnDevice("mul", a, b)) return Dev.Binary<Kernels.MulOp>(a, b, plan.OutShape, "mul");
        var y = Tensor.Zeros(plan.OutShape, a.DType);
        if (a.DType == DType.F32) plan.Apply<float, MulOp>(a.F32, b.F32, y.F32);
        else plan.Apply<double, MulOp>(a.F64, b.F64, y.F64);
        return Autograd.Record(y, "mul", dy =>
        {
            if (a.DType == DType.F32) MulBackward<float>(plan, a, b, dy);
            else MulBackward<double>(plan, a, b, dy);
        }, a, b);
    }

    static void MulBackward<T>(Broadcast plan, Tensor a, Tensor b, Tensor dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var g = dy.Data<T>();
        var tmp = NN.TensorArena.Scratch<T>(plan.OutLength);
        if (a.RequiresGrad)
        {
            plan.ApplyFull<T, MulOp>(g, b.Data<T>(), false, tmp);
            plan.ReduceInto<T>(tmp, true, a.GradData<T>(), T.One);
        }
        if (b.RequiresGrad)
        {
            plan.ApplyFull<T, MulOp>(g, a.Data<T>(), true, tmp);
            plan.ReduceInto<T>(tmp, false, b.GradData<T>(), T.One);
        }
    }

    /// <summary>x · s for a constant s.</summary>
    public static Tensor MulScalar(Tensor x, double s)
    {
        OpCheck.Float(x, "mul_scalar", "x");
        if (!x.Device.IsCpu) return MulScalarOnDevice(x, s);
        var y = Tensor.Zeros(x.Shape, x.DType);
        if (x.DType == DType.F32) TensorPrimitives.Multiply(x.F32, (float)s, y.F32);
        else TensorPrimitives.Multiply(x.F64, s, y.F64);
        return Autograd.Record(y, "mul_scalar", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) Cpu.Vec.AxpyInPlace(x.GradData<float>(), (float)s, dy.F32);
            else Cpu.Vec.AxpyInPlace(x.GradData<double>(), s, dy.F64);
        }, x);
    }

    /// <summary>Device twin of MulScalar: y = x · s; dx += s · dy.</summary>
    static Tensor MulScalarOnDevice(Tensor x, double s)
    {
        Dev.F32("mul_scalar", x);
        var y = Dev.Empty(x.Shape, x.Device);
        Dev.L(x).Affine(Dev.V(y), Dev.V(x), (float)s, 0f);
        return Autograd.Record(y, "mul_scalar", dy => { if (x.RequiresGrad) Dev.Accumulate(x, dy, (float)s); }, x);
    }

    [GradCases(Op = "mul", Cpu = nameof(Mul), Tolerance = ToleranceClass.Pointwise,
        Kernels = "BroadcastKernels ScalarKernels")]
    static IEnumerable<GradCase> MulCases()
    {
        yield return GradCase.Simple("mul", x => Mul(x[0], x[1]), [3, 4], [3, 4]);
        yield return GradCase.Simple("mul_row", x => Mul(x[0], x[1]), [2, 3, 4], [4]);
        yield return GradCase.Simple("mul_row_rev", x => Mul(x[0], x[1]), [3, 4], [2, 3, 4]);
        yield return GradCase.Simple("mul_col", x => Mul(x[0], x[1]), [2, 3, 4], [2, 3, 1]);
        yield return GradCase.Simple("mul_scalar_b", x => Mul(x[0], x[1]), [3, 4], [1]);
        yield return GradCase.Simple("mul_outer", x => Mul(x[0], x[1]), [3, 1], [1, 4]);
        yield return GradCase.Simple("mul_self", x => Mul(x[0], x[0]), [2, 3]);
        yield return GradCase.Simple("mul_scalar_op", x => 0.5 * x[0] * -3.0, [2, 3]);
    }
}

/// <summary>Span kernel for mul.</summary>
internal struct MulOp : IBinarySpanOp
{
    public static void VV<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Multiply(a, b, o);
    public static void VS<T>(ReadOnlySpan<T> a, T b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Multiply(a, b, o);
    public static void SV<T>(T a, ReadOnlySpan<T> b, Span<T> o) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Multiply(b, a, o);
}

public sealed partial class Tensor
{
    public static Tensor operator *(Tensor a, Tensor b) => F.Mul(a, b);
    public static Tensor operator *(Tensor a, double s) => F.MulScalar(a, s);
    public static Tensor operator *(double s, Tensor a) => F.MulScalar(a, s);
}
