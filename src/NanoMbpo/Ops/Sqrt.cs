// Sqrt: y = √x (TensorPrimitives). Backward reuses the output: dx = dy / (2y), as torch.
// Gradient check: catalog "sqrt*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Sqrt(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new SqrtOp(), "sqrt") : Dev.Unary<Kernels.SqrtOp>(x, "sqrt");

    [GradCases(Op = "sqrt", Cpu = nameof(Sqrt), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> SqrtCases()
    {
        yield return GradCase.Ranged("sqrt", 0.5, 2.0, x => Sqrt(x[0]), [3, 5]);
        yield return GradCase.Ranged("sqrt_small", 0.05, 0.5, x => Sqrt(x[0]), [2, 3, 4]);
    }
}

internal struct SqrtOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> => TensorPrimitives.Sqrt(x, y);
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g / (y + y);
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g / (y + y);
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T> => g / (y + y);
}
