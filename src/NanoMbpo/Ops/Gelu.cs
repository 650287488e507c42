// Gelu, erf form as BERT and torch's default: y = 0.5·x·(1 + erf(x/√2)) = x·Φ(x).
// Backward: dx = dy·(Φ(x) + x·φ(x)), φ the standard normal density. float32 runs a Vector512
// (Vector256) loop over the SIMD erf of Cpu/Erf.cs and Vector512.Exp; float64 runs Erf.Double per
// element (gradient checks). Gradient check: catalog "gelu*"; tests: tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs;
// benchmark: bench/NanoMbpo.Bench/GeluBench.cs.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NanoMbpo.Cpu;

namespace NanoMbpo;

public static partial class F
{
    public static Tensor Gelu(Tensor x) =>
        x.Device.IsCpu ? Elementwise.Unary(x, new GeluOp(), "gelu") : Dev.Unary<Kernels.GeluOp>(x, "gelu");

    [GradCases(Op = "gelu", Cpu = nameof(Gelu), Tolerance = ToleranceClass.Pointwise, Kernels = "ElementwiseKernels")]
    static IEnumerable<GradCase> GeluCases()
    {
        yield return GradCase.Simple("gelu", x => Gelu(x[0]), [3, 5]);
        yield return GradCase.Ranged("gelu_wide", -4, 4, x => Gelu(x[0]), [2, 3, 4]);
    }
}

internal struct GeluOp : IUnaryOp
{
    const double InvSqrt2 = 0.70710678118654752440, InvSqrt2Pi = 0.39894228040143267794;

    public void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) ForwardF32(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(y));
        else
        {
            var xd = MemoryMarshal.Cast<T, double>(x); var yd = MemoryMarshal.Cast<T, double>(y);
            for (int i = 0; i < xd.Length; i++) yd[i] = 0.5 * xd[i] * (1.0 + Erf.Double(xd[i] * InvSqrt2));
        }
    }

    public void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!accumulate) dx.Clear();   // a fresh gradient buffer; the formulas below add into dx
        if (typeof(T) == typeof(float)) BackwardF32(MemoryMarshal.Cast<T, float>(x), MemoryMarshal.Cast<T, float>(dy), MemoryMarshal.Cast<T, float>(dx));
        else
        {
            var xd = MemoryMarshal.Cast<T, double>(x); var gd = MemoryMarshal.Cast<T, double>(dy); var dd = MemoryMarshal.Cast<T, double>(dx);
            for (int i = 0; i < xd.Length; i++)
            {
                double v = xd[i], cdf = 0.5 * (1.0 + Erf.Double(v * InvSqrt2)), pdf = InvSqrt2Pi * Math.Exp(-0.5 * v * v);
                dd[i] += gd[i] * (cdf + v * pdf);
            }
        }
    }

    static void ForwardF32(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x), py = ref MemoryMarshal.GetReference(y);
        if (Vector512.IsHardwareAccelerated)
        {
            var half = Vector512.Create(0.5f); var k = Vector512.Create((float)InvSqrt2);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref px, (nuint)i);
                (half * v * (Vector512<float>.One + Erf.Vector(v * k))).StoreUnsafe(ref py, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var half = Vector256.Create(0.5f); var k = Vector256.Create((float)InvSqrt2);
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref px, (nuint)i);
                (half * v * (Vector256<float>.One + Erf.Vector(v * k))).StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref px, i);
            Unsafe.Add(ref py, i) = 0.5f * v * (1f + Erf.Single(v * (float)InvSqrt2));
        }
    }

    static void BackwardF32(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        int n = x.Length, i = 0;
        ref float px = ref MemoryMarshal.GetReference(x), pg = ref MemoryMarshal.GetReference(g), pd = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            var half = Vector512.Create(0.5f); var k = Vector512.Create((float)InvSqrt2); var c = Vector512.Create((float)InvSqrt2Pi);
            for (; i <= n - 16; i += 16)
            {
                var v = Vector512.LoadUnsafe(ref px, (nuint)i);
                var cdf = half * (Vector512<float>.One + Erf.Vector(v * k));
                var pdf = c * Vector512.Exp(-half * v * v);
                var d = Vector512.LoadUnsafe(ref pd, (nuint)i);
                Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pg, (nuint)i), Vector512.FusedMultiplyAdd(v, pdf, cdf), d).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var half = Vector256.Create(0.5f); var k = Vector256.Create((float)InvSqrt2); var c = Vector256.Create((float)InvSqrt2Pi);
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.LoadUnsafe(ref px, (nuint)i);
                var cdf = half * (Vector256<float>.One + Erf.Vector(v * k));
                var pdf = c * Vector256.Exp(-half * v * v);
                var d = Vector256.LoadUnsafe(ref pd, (nuint)i);
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pg, (nuint)i), Vector256.FusedMultiplyAdd(v, pdf, cdf), d).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref px, i);
            float cdf = 0.5f * (1f + Erf.Single(v * (float)InvSqrt2)), pdf = (float)InvSqrt2Pi * MathF.Exp(-0.5f * v * v);
            Unsafe.Add(ref pd, i) += Unsafe.Add(ref pg, i) * (cdf + v * pdf);
        }
    }
}
