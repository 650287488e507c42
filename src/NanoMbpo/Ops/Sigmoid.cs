// Sigmoid: y = 1/(1+e^−x) (TensorPrimitives). Backward reuses the output: dx = dy·y·(1 − y).
// Gradient check: catalog "sigmoid*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Sigmoid(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new SigmoidOp(), "sigmoid") : Dev.Unary<Kernels.SigmoidOp>(x, "sigmoid");

    [GradCases(Op = "sigmoid", Cpu = nameof(Sigmoid), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> SigmoidCases()
    {
        yield return GradCase.Simple("sigmoid", x => Sigmoid(x[0]), [3, 5]);
        yield return GradCase.Ranged("sigmoid_wide", -4, 4, x => Sigmoid(x[0]), [2, 3, 4]);
    }
}

internal struct SigmoidOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sigmoid(x, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * y * (T.One - y);
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * y * (Vector512<T>.One - y);
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * y * (Vector256<T>.One - y);
}
