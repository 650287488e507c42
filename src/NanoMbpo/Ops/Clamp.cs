// Clamp: y = min(max(x, min), max) (NaN propagates, as torch). Backward: dx = dy where
// min ≤ x ≤ max (inclusive, as torch's clamp_backward), else 0.
// Gradient check: catalog "clamp*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Clamp(Tensor x, double min, double max)
    {
        if (!(min <= max)) throw new ArgumentException($"clamp: min {min} must be <= max {max} (x{x.ShapeString}).", nameof(min));
        if (!x.Device.IsCpu) return ClampOnDevice(x, (float)min, (float)max);
        return Elementwise.Unary(x, new ClampOp(min, max), "clamp");
    }

    /// <summary>Device twin: y = min(max(x, min), max); dx += dy inside [min, max].</summary>
    static Tensor ClampOnDevice(Tensor x, float min, float max)
    {
        Dev.F32("clamp", x);
        var l = Dev.L(x);
        var y = Dev.Empty(x.Shape, x.Device);
        l.Clamp(Dev.V(y), Dev.V(x), min, max);
        return Autograd.Record(y, "clamp", dy =>
        {
            if (!x.RequiresGrad) return;
            using var s = Dev.Sink(x);
            l.ClampBackward(s.View, Dev.V(dy), Dev.V(x), min, max);
        }, x);
    }

    [GradCases(Op = "clamp", Cpu = nameof(Clamp), Tolerance = ToleranceClass.Pointwise, Kernels = "ScalarKernels")]
    static IEnumerable<GradCase> ClampCases()
    {
        yield return GradCase.Simple("clamp", x => Clamp(x[0], -0.5, 0.45), [3, 5]);
        yield return GradCase.Ranged("clamp_3d", -2, 2, x => Clamp(x[0], -1.05, 0.95), [2, 3, 4]);
    }
}

internal readonly struct ClampOp(double min, double max) : IUnaryOp, IGradKernel
{
    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Max(x, T.CreateTruncating(min), y);
        TensorPrimitives.Min(y, T.CreateTruncating(max), y);
    }
    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
        => Elementwise.AccumulateGrad(this, x, y, dy, dx, accumulate);
    public T Grad<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T>
        => x >= T.CreateTruncating(min) && x <= T.CreateTruncating(max) ? g : T.Zero;
    public Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> y, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inside = Vector512.GreaterThanOrEqual(x, Vector512.Create(T.CreateTruncating(min))) & Vector512.LessThanOrEqual(x, Vector512.Create(T.CreateTruncating(max)));
        return g & inside;
    }
    public Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> y, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inside = Vector256.GreaterThanOrEqual(x, Vector256.Create(T.CreateTruncating(min))) & Vector256.LessThanOrEqual(x, Vector256.Create(T.CreateTruncating(max)));
        return g & inside;
    }
}
