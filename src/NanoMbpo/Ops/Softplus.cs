// Softplus: y = log(1 + eˣ), computed stably as max(x, 0) + log1p(e^−|x|), and y = x for x > 20
// (torch's default threshold, so values match torch bit for bit in spirit). log1p uses Goldberg's
// trick log(u)·t/(u − 1), u = 1 + t, which stays accurate for tiny t where log(1 + t) would not.
// Backward: dx = dy·σ(x) (dy for x > 20). Gradient check: catalog "softplus*";
// tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Softplus(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new SoftplusOp(), "softplus") : Dev.Unary<Kernels.SoftplusOp>(x, "softplus");

    [GradCases(Op = "softplus", Cpu = nameof(Softplus), Tolerance = ToleranceClass.Pointwise,
        Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> SoftplusCases()
    {
        yield return GradCase.Simple("softplus", x => Softplus(x[0]), [3, 5]);
        yield return GradCase.Ranged("softplus_wide", -15, 15, x => Softplus(x[0]), [2, 3, 4]);
    }
}

internal struct SoftplusOp : IUnaryOp, IGradKernel
{
    const double Threshold = 20.0;

    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Cpu.ThreadScratch<T>.Get(x.Length);
        TensorPrimitives.Abs(x, t);
        TensorPrimitives.Negate(t, t);
        TensorPrimitives.Exp(t, t);         // t = e^−|x| ∈ (0, 1]
        TensorPrimitives.Add(t, T.One, y);  // y = u = 1 + t
        var th = T.CreateTruncating(Threshold);
        for (int i = 0; i < x.Length; i++)
        {
            T u = y[i], d = u - T.One, l1p = d == T.Zero ? t[i] : T.Log(u) * t[i] / d;
            y[i] = x[i] > th ? x[i] : T.Max(x[i], T.Zero) + l1p;
        }
    }
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = Cpu.ThreadScratch<T>.Get(x.Length);
        TensorPrimitives.Sigmoid(x, s);
        Elementwise.AccumulateGrad(this, x, s, dy, dx, accumulate);
    }
    // aux = σ(x).
    public T Grad<T>(T x, T s, T g) where T : unmanaged, IFloatingPointIeee754<T> => x > T.CreateTruncating(Threshold) ? g : g * s;
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> s, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(T.CreateTruncating(Threshold))), g, g * s);
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> s, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T>
        => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(T.CreateTruncating(Threshold))), g, g * s);
}
