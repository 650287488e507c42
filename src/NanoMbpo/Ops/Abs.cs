// Abs: y = |x| (TensorPrimitives). Backward: dx = dy·sign(x), with sign(0) = 0 as torch.
// Gradient check: catalog "abs*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Abs(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new AbsOp(), "abs") : Dev.Unary<Kernels.AbsOp>(x, "abs");

    [GradCases(Op = "abs", Cpu = nameof(Abs), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> AbsCases()
    {
        yield return GradCase.Simple("abs", x => Abs(x[0]), [3, 5]);
        yield return GradCase.Simple("abs_3d", x => Abs(x[0]), [2, 3, 4]);
    }
}

internal struct AbsOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Abs(x, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => x > T.Zero ? g : x < T.Zero ? -g : T.Zero;
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), g, Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<T>.Zero), -g, Vector512<T>.Zero));
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), g, Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<T>.Zero), -g, Vector256<T>.Zero));
}
