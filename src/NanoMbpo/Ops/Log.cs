// Log: y = ln x (TensorPrimitives; x ≤ 0 gives NaN/−Inf as torch). Backward: dx = dy / x.
// Gradient check: catalog "log*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Log(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new LogOp(), "log") : Dev.Unary<Kernels.LogOp>(x, "log");

    [GradCases(Op = "log", Cpu = nameof(Log), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> LogCases()
    {
        yield return GradCase.Ranged("log", 0.5, 2.0, x => Log(x[0]), [3, 5]);
        yield return GradCase.Ranged("log_small", 0.05, 0.5, x => Log(x[0]), [2, 3, 4]);
    }
}

internal struct LogOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Log(x, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g / x;
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g / x;
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g / x;
}
