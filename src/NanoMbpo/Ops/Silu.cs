// Silu (swish): y = x·σ(x). Backward: dx = dy·σ(x)·(1 + x·(1 − σ(x))), σ recomputed with
// TensorPrimitives.Sigmoid rather than stored. Gradient check: catalog "silu*";
// tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Silu(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new SiluOp(), "silu") : Dev.Unary<Kernels.SiluOp>(x, "silu");

    [GradCases(Op = "silu", Cpu = nameof(Silu), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> SiluCases()
    {
        yield return GradCase.Simple("silu", x => Silu(x[0]), [3, 5]);
        yield return GradCase.Ranged("silu_wide", -4, 4, x => Silu(x[0]), [2, 3, 4]);
    }
}

internal struct SiluOp : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(y, x, y);
    }
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = Cpu.ThreadScratch<T>.Get(x.Length);
        TensorPrimitives.Sigmoid(x, s);
        Elementwise.AccumulateGrad(this, x, s, dy, dx, accumulate);
    }
    // aux = σ(x).
    public T Grad<T>(T x, T s, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * s * (T.One + x * (T.One - s));
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> s, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T>
        => g * s * (Vector512<T>.One + x * (Vector512<T>.One - s));
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> s, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T>
        => g * s * (Vector256<T>.One + x * (Vector256<T>.One - s));
}
