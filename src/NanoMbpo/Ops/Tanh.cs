// Tanh: y = tanh(x) (TensorPrimitives). Backward reuses the output: dx = dy·(1 − y²).
// Gradient check: catalog "tanh*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Tanh(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new TanhOp(), "tanh") : Dev.Unary<Kernels.TanhOp>(x, "tanh");

    [GradCases(Op = "tanh", Cpu = nameof(Tanh), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> TanhCases()
    {
        yield return GradCase.Simple("tanh", x => Tanh(x[0]), [3, 5]);
        yield return GradCase.Ranged("tanh_wide", -3, 3, x => Tanh(x[0]), [2, 3, 4]);
    }
}

internal struct TanhOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Tanh(x, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * (T.One - y * y);
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * (Vector512<T>.One - y * y);
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g * (Vector256<T>.One - y * y);
}
