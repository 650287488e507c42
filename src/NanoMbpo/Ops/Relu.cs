// Relu: y = max(x, 0) (NaN propagates, as torch). Backward: dx = dy where x > 0, else 0 (torch's
// choice at x = 0). Forward is TensorPrimitives.Max; backward a masked Vector512 select.
// Gradient check: catalog "relu*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Relu(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new ReluOp(), "relu") : Dev.Unary<Kernels.ReluOp>(x, "relu");

    [GradCases(Op = "relu", Cpu = nameof(Relu), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> ReluCases()
    {
        yield return GradCase.Simple("relu", x => Relu(x[0]), [3, 5]);
        yield return GradCase.Simple("relu_3d", x => Relu(x[0]), [2, 3, 4]);
    }
}

internal struct ReluOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Max(x, T.Zero, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T aux, T g) where T : unmanaged, IFloatingPointIeee754<T> => x > T.Zero ? g : T.Zero;
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> aux, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), g, Vector512<T>.Zero);
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> aux, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), g, Vector256<T>.Zero);
}
