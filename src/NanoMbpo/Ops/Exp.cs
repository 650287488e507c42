// Exp: y = eˣ (TensorPrimitives). Backward reuses the output: dx = dy·y.
// Gradient check: catalog "exp*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Exp(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new ExpOp(), "exp") : Dev.Unary<Kernels.ExpOp>(x, "exp");

    [GradCases(Op = "exp", Cpu = nameof(Exp), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> ExpCases()
    {
        yield return GradCase.Simple("exp", x => Exp(x[0]), [3, 5]);
        yield return GradCase.Ranged("exp_wide", -3, 2, x => Exp(x[0]), [2, 3, 4]);
    }
}

internal struct ExpOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Exp(x, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * y;
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * y;
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * y;
}
