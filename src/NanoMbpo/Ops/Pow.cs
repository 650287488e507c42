// Pow: y = x^p for a constant exponent p (TensorPrimitives.Pow; p = 2 and p = 1 take exact shortcuts).
// Backward: dx = dy·p·x^(p−1), and 0 when p = 0, as torch. Non-integer p needs x > 0 (NaN otherwise,
// as torch). Gradient check: catalog "pow*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Pow(Tensor x, double p) => x.Device.IsCpu ? Elementwise.Unary(x, new PowOp(p), "pow") : PowOnDevice(x, p);

    /// <summary>Device twin: y = x^p with the scalar kernels; dx += p x^(p-1) dy.</summary>
    static Tensor PowOnDevice(Tensor x, double p)
    {
        Dev.F32("pow", x);
        var l = Dev.L(x);
        var y = Dev.Empty(x.Shape, x.Device);
        l.Pow(Dev.V(y), Dev.V(x), (float)p);
        return Autograd.Record(y, "pow", dy =>
        {
            if (!x.RequiresGrad) return;
            using var s = Dev.Sink(x);
            l.PowBackward(s.View, Dev.V(dy), Dev.V(x), (float)p);
        }, x);
    }

    [GradCases(Op = "pow", Cpu = nameof(Pow), Tolerance = ToleranceClass.Pointwise, Kernels = "ScalarKernels")]
    static IEnumerable<GradCase> PowCases()
    {
        yield return GradCase.Simple("pow_2", x => Pow(x[0], 2), [3, 5]);
        yield return GradCase.Simple("pow_3", x => Pow(x[0], 3), [2, 3, 4]);
        yield return GradCase.Ranged("pow_half", 0.3, 2.0, x => Pow(x[0], 0.5), [3, 4]);
        yield return GradCase.Ranged("pow_neg", 0.5, 2.0, x => Pow(x[0], -1.5), [3, 4]);
    }
}

internal readonly struct PowOp(double p) : IUnaryOp
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p == 2) TensorPrimitives.Multiply(x, x, y);
        else if (p == 1) x.CopyTo(y);
        else TensorPrimitives.Pow(x, T.CreateTruncating(p), y);
    }
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!accumulate) dx.Clear();   // a fresh gradient buffer; the formulas below add into dx
        if (p == 0) return;
        if (p == 1) { TensorPrimitives.Add(dx, dy, dx); return; }
        var t = Cpu.ThreadScratch<T>.Get(x.Length);
        if (p == 2) x.CopyTo(t);
        else TensorPrimitives.Pow(x, T.CreateTruncating(p - 1), t);
        TensorPrimitives.Multiply(t, dy, t);
        TensorPrimitives.MultiplyAdd(t, T.CreateTruncating(p), dx, dx);
    }
}
