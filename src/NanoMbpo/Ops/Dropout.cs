// Dropout (inverted): in training each element is zeroed with probability p and the survivors are
// scaled by 1/(1-p), so evaluation is the identity. The keep mask comes from rng: each NextUInt64
// gives two 32-bit uniforms (elements 2i and 2i+1), so the same rng state gives the same mask.
// p == 1 drops everything (output zeros, as torch). Backward multiplies dy by the same mask.
// Gradient check: catalog "dropout*" (re-seeds each call); tests: tests/NanoMbpo.Tests/Ops/IndexOpsBTests.cs.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>Inverted dropout of x with drop probability <paramref name="p"/> in [0,1]; identity
    /// (x itself) when !<paramref name="training"/> or p == 0 — then rng is not advanced.</summary>
    public static Tensor Dropout(Tensor x, double p, Rng rng, bool training)
    {
        OpCheck.Float(x, "dropout", "x");
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"dropout: p must be in [0,1], got {p} (x{x.ShapeString}).");
        ArgumentNullException.ThrowIfNull(rng);
        if (!training || p == 0) return x;
        if (!x.Device.IsCpu) return DropoutOnDevice(x, p, rng);
        var y = Tensor.Zeros(x.Shape, x.DType);
        // Mask of scales (0 or 1/(1-p)), kept for the backward pass.
        var mask = Tensor.Zeros(x.Shape, x.DType);
        double scale = p == 1 ? 0 : 1.0 / (1.0 - p);
        // keep ⇔ u32 ≥ threshold, P(keep) = 1 - threshold/2³².
        ulong threshold = (ulong)Math.Round(p * 4294967296.0);
        if (x.DType == DType.F32) DropoutForward<float>(x.F32, mask.F32, y.F32, rng, threshold, scale);
        else DropoutForward<double>(x.F64, mask.F64, y.F64, rng, threshold, scale);
        return Autograd.Record(y, "dropout", dy =>
        {
            if (!x.RequiresGrad) return;
            if (x.DType == DType.F32) DropoutBackward<float>(x.GradData<float>(), mask.F32, dy.F32);
            else DropoutBackward<double>(x.GradData<double>(), mask.F64, dy.F64);
        }, x);
    }

    /// <summary>Device twin: the mask comes from the counter-based random kernel seeded by one
    /// rng.NextUInt64() draw, so it is deterministic in the rng state but is not the CPU path's mask.</summary>
    static Tensor DropoutOnDevice(Tensor x, double p, Rng rng)
    {
        Dev.F32("dropout", x);
        var l = Dev.L(x);
        var y = Dev.Empty(x.Shape, x.Device);
        var mask = Dev.Empty(x.Shape, x.Device);
        var u = Dev.Empty(x.Shape, x.Device);
        float scale = p == 1 ? 0f : (float)(1.0 / (1.0 - p));
        l.Dropout(Dev.V(y), Dev.V(mask), Dev.V(x), Dev.V(u), rng.NextUInt64(), (float)p, scale);
        return Autograd.Record(y, "dropout", dy =>
        {
            if (!x.RequiresGrad || x.Length == 0) return;
            using var s = Dev.Sink(x);
            l.BinaryForward<Kernels.MulOp>(s.View, Dev.V(dy), Dev.V(mask), 1, x.Length);
        }, x);
    }

    static void DropoutForward<T>(ReadOnlySpan<T> x, Span<T> mask, Span<T> y, Rng rng, ulong threshold, double scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T s = T.CreateTruncating(scale);
        int n = x.Length;
        for (int i = 0; i < n; i += 2)
        {
            ulong r = rng.NextUInt64();
            mask[i] = (r & 0xFFFFFFFFUL) >= threshold ? s : T.Zero;
            if (i + 1 < n) mask[i + 1] = (r >> 32) >= threshold ? s : T.Zero;
        }
        TensorPrimitives.Multiply(x, mask, y);
    }

    static void DropoutBackward<T>(Span<T> dx, ReadOnlySpan<T> mask, ReadOnlySpan<T> dy) where T : unmanaged, IFloatingPointIeee754<T>
        => TensorPrimitives.MultiplyAdd(dy, mask, dx, dx);

    [GradCases(Op = "dropout", Cpu = nameof(Dropout), Tolerance = ToleranceClass.Pointwise,
        Kernels = "ScalarKernels ElementwiseKernels", NoParity = "device dropout draws its mask from the counter-based random kernel, not the CPU rng stream (mask statistics are unit-tested)")]
    static IEnumerable<GradCase> DropoutCases()
    {
        // Forward re-seeds each call so finite differences see the same mask as the analytic pass.
        yield return GradCase.Simple("dropout", x => Dropout(x[0], 0.3, new Rng(7), true), [4, 5]);
        yield return GradCase.Simple("dropout_odd", x => Dropout(x[0], 0.5, new Rng(11), true), [3, 3]);
    }
}
