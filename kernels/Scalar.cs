// Small elementwise kernels the op dispatch needs beside the activation kernels: affine x·mul + add
// (scalar add/mul, negation), axpy accumulation (autograd's dst += alpha·src), fill, pow and clamp
// with their backward, sqrt/abs as IUnaryOp structs, the key-padding-mask inversion for attention,
// the dropout mask from uniform draws, masked fill, and axis sum/max over (Outer, N, Inner) views.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.ScalarKernelTests" and the op parity test
// (NanoMbpo.Tests.Dispatch.DeviceParityTests).
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public struct SqrtOp : IUnaryOp
{
    public readonly float Forward(float x) => XMath.Sqrt(x);
    public readonly float Backward(float x, float y, float dy) => dy / (y + y);
}

public struct AbsOp : IUnaryOp
{
    public readonly float Forward(float x) => Math.Abs(x);
    public readonly float Backward(float x, float y, float dy) => x > 0f ? dy : x < 0f ? -dy : 0f;
}

public static class ScalarKernels
{
    public static void Affine(Index1D i, ArrayView<float> y, ArrayView<float> x, float mul, float add) => y[i] = x[i] * mul + add;

    public static void Axpy(Index1D i, ArrayView<float> dst, ArrayView<float> src, float alpha) => dst[i] += alpha * src[i];

    public static void Fill(Index1D i, ArrayView<float> y, float value) => y[i] = value;

    /// <summary>x^p; negative x with an integer p keeps the sign of an odd power (as powf).</summary>
    public static float Pow(float x, float p)
    {
        if (x >= 0f) return XMath.Pow(x, p);
        float r = XMath.Pow(-x, p);
        float half = p * 0.5f;
        if (XMath.Floor(p) != p) return float.NaN;
        return XMath.Floor(half) == half ? r : -r;
    }

    public static void PowForward(Index1D i, ArrayView<float> y, ArrayView<float> x, float p) =>
        y[i] = p == 2f ? x[i] * x[i] : p == 1f ? x[i] : Pow(x[i], p);

    /// <summary>dx = p x^(p-1) dy (overwritten).</summary>
    public static void PowBackward(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, float p) =>
        dx[i] = p == 0f ? 0f : p == 1f ? dy[i] : p == 2f ? 2f * x[i] * dy[i] : p * Pow(x[i], p - 1f) * dy[i];

    public static void ClampForward(Index1D i, ArrayView<float> y, ArrayView<float> x, float min, float max) =>
        y[i] = Math.Min(Math.Max(x[i], min), max);

    /// <summary>dx = dy inside [min, max] (bounds included, as the CPU op), else 0 (overwritten).</summary>
    public static void ClampBackward(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, float min, float max) =>
        dx[i] = x[i] >= min && x[i] <= max ? dy[i] : 0f;

    /// <summary>keep[i] = 1 where padded[i] == 0 (the attention kernels mark kept keys).</summary>
    public static void InvertMask(Index1D i, ArrayView<int> keep, ArrayView<int> padded) => keep[i] = padded[i] == 0 ? 1 : 0;

    /// <summary>Inverted dropout from uniform draws u: mask = u ≥ p ? scale : 0, y = x·mask.</summary>
    public static void DropoutApply(Index1D i, ArrayView<float> y, ArrayView<float> mask, ArrayView<float> x,
        ArrayView<float> u, float p, float scale)
    {
        float m = u[i] >= p ? scale : 0f;
        mask[i] = m;
        y[i] = x[i] * m;
    }

    /// <summary>y = mask[i mod maskLength] != 0 ? value : x (mask a suffix of x's shape).</summary>
    public static void MaskedFill(Index1D i, ArrayView<float> y, ArrayView<float> x, ArrayView<int> mask, int maskLength, float value) =>
        y[i] = mask[i % maskLength] != 0 ? value : x[i];

    /// <summary>dx = filled ? 0 : dy (overwritten).</summary>
    public static void MaskedFillBackward(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<int> mask, int maskLength) =>
        dx[i] = mask[i % maskLength] != 0 ? 0f : dy[i];

    /// <summary>Thread per (o, j): y[o, j] = scale Σ_n x[o, n, j] in index order.</summary>
    public static void AxisSum(Index1D i, ArrayView<float> y /* (Outer,Inner) */, ArrayView<float> x /* (Outer,N,Inner) */,
        int n, int inner, float scale)
    {
        long o = i / inner, j = i % inner;
        long base0 = o * n * inner + j;
        float acc = 0f;
        for (int a = 0; a < n; a++) acc += x[base0 + (long)a * inner];
        y[i] = acc * scale;
    }

    /// <summary>dx[o, n, j] = scale dy[o, j] (overwritten).</summary>
    public static void AxisSumBackward(Index1D i, ArrayView<float> dx /* (Outer,N,Inner) */, ArrayView<float> dy /* (Outer,Inner) */,
        int n, int inner, float scale)
    {
        long j = i % inner, o = i / ((long)n * inner);
        dx[i] = scale * dy[o * inner + j];
    }

    /// <summary>Thread per (o, j): y = max over n, arg = first index reaching it.</summary>
    public static void AxisMax(Index1D i, ArrayView<float> y, ArrayView<int> arg, ArrayView<float> x, int n, int inner)
    {
        long o = i / inner, j = i % inner;
        long base0 = o * n * inner + j;
        float best = x[base0]; int at = 0;
        for (int a = 1; a < n; a++)
        {
            float v = x[base0 + (long)a * inner];
            if (v > best) { best = v; at = a; }
        }
        y[i] = best; arg[i] = at;
    }

    /// <summary>dx[o, n, j] = dy[o, j] where n is the arg-max, else 0 (overwritten).</summary>
    public static void AxisMaxBackward(Index1D i, ArrayView<float> dx, ArrayView<float> dy, ArrayView<int> arg, int n, int inner)
    {
        long j = i % inner, o = i / ((long)n * inner);
        int a = (int)(i / inner % n);
        long k = o * inner + j;
        dx[i] = arg[k] == a ? dy[k] : 0f;
    }
}

public sealed partial class KernelLauncher
{
    Action<Index1D, ArrayView<float>, ArrayView<float>, float, float> K2F(string key,
        Action<Index1D, ArrayView<float>, ArrayView<float>, float, float> f) =>
        Cache.Get(key, a => a.LoadAutoGroupedStreamKernel(f));

    /// <summary>y = x·mul + add.</summary>
    public void Affine(ArrayView<float> y, ArrayView<float> x, float mul, float add)
    {
        RequireLength(y, x.Length, "affine", "y");
        if (x.Length > 0) K2F("Scalar.Affine", ScalarKernels.Affine)((int)x.Length, y, x, mul, add);
    }

    /// <summary>dst += alpha·src (autograd's gradient accumulation).</summary>
    public void Axpy(ArrayView<float> dst, ArrayView<float> src, float alpha = 1f)
    {
        RequireLength(dst, src.Length, "axpy", "dst");
        if (src.Length == 0) return;
        var k = Cache.Get("Scalar.Axpy", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(ScalarKernels.Axpy));
        k((int)src.Length, dst, src, alpha);
    }

    public void Fill(ArrayView<float> y, float value)
    {
        if (y.Length == 0) return;
        var k = Cache.Get("Scalar.Fill", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ScalarKernels.Fill));
        k((int)y.Length, y, value);
    }

    public void Pow(ArrayView<float> y, ArrayView<float> x, float p)
    {
        if (x.Length == 0) return;
        var k = Cache.Get("Scalar.Pow", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(ScalarKernels.PowForward));
        k((int)x.Length, y, x, p);
    }

    public void PowBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, float p)
    {
        if (x.Length == 0) return;
        var k = Cache.Get("Scalar.PowBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, float>(ScalarKernels.PowBackward));
        k((int)x.Length, dx, dy, x, p);
    }

    public void Clamp(ArrayView<float> y, ArrayView<float> x, float min, float max)
    {
        if (x.Length > 0) K2F("Scalar.Clamp", ScalarKernels.ClampForward)((int)x.Length, y, x, min, max);
    }

    public void ClampBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, float min, float max)
    {
        if (x.Length == 0) return;
        var k = Cache.Get("Scalar.ClampBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, float, float>(ScalarKernels.ClampBackward));
        k((int)x.Length, dx, dy, x, min, max);
    }

    public void InvertMask(ArrayView<int> keep, ArrayView<int> padded)
    {
        RequireLength(keep, padded.Length, "invert_mask", "keep");
        if (padded.Length == 0) return;
        var k = Cache.Get("Scalar.InvertMask", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(ScalarKernels.InvertMask));
        k((int)padded.Length, keep, padded);
    }

    /// <summary>Draws u ~ U[0,1) from the counter-based stream <paramref name="seed"/> into
    /// <paramref name="scratch"/>, then mask = u ≥ p ? scale : 0 and y = x·mask.</summary>
    public void Dropout(ArrayView<float> y, ArrayView<float> mask, ArrayView<float> x, ArrayView<float> scratch,
        ulong seed, float p, float scale)
    {
        long n = x.Length;
        RequireLength(y, n, "dropout", "y"); RequireLength(mask, n, "dropout", "mask"); RequireLength(scratch, n, "dropout", "scratch");
        if (n == 0) return;
        RandomUniform(scratch.SubView(0, n), seed);
        var k = Cache.Get("Scalar.Dropout", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, float, float>(ScalarKernels.DropoutApply));
        k((int)n, y, mask, x, scratch, p, scale);
    }

    public void MaskedFill(ArrayView<float> y, ArrayView<float> x, ArrayView<int> mask, float value)
    {
        if (x.Length == 0) return;
        Require(mask.Length > 0 && x.Length % mask.Length == 0, "masked_fill", $"mask length {mask.Length} must divide {x.Length}");
        var k = Cache.Get("Scalar.MaskedFill", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, int, float>(ScalarKernels.MaskedFill));
        k((int)x.Length, y, x, mask, (int)mask.Length, value);
    }

    public void MaskedFillBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<int> mask)
    {
        if (dy.Length == 0) return;
        var k = Cache.Get("Scalar.MaskedFillBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, int>(ScalarKernels.MaskedFillBackward));
        k((int)dy.Length, dx, dy, mask, (int)mask.Length);
    }

    /// <summary>y (Outer,Inner) = scale Σ_n x (Outer,N,Inner).</summary>
    public void AxisSum(ArrayView<float> y, ArrayView<float> x, int outer, int n, int inner, float scale)
    {
        RequireLength(x, (long)outer * n * inner, "sum_axis", "x"); RequireLength(y, (long)outer * inner, "sum_axis", "y");
        if ((long)outer * inner == 0) return;
        var k = Cache.Get("Scalar.AxisSum", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            int, int, float>(ScalarKernels.AxisSum));
        k(outer * inner, y, x, n, inner, scale);
    }

    public void AxisSumBackward(ArrayView<float> dx, ArrayView<float> dy, int outer, int n, int inner, float scale)
    {
        if ((long)outer * n * inner == 0) return;
        var k = Cache.Get("Scalar.AxisSumBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            int, int, float>(ScalarKernels.AxisSumBackward));
        k(outer * n * inner, dx, dy, n, inner, scale);
    }

    public void AxisMax(ArrayView<float> y, ArrayView<int> arg, ArrayView<float> x, int outer, int n, int inner)
    {
        Require(n > 0, "max_axis", "the reduced axis is empty");
        if ((long)outer * inner == 0) return;
        var k = Cache.Get("Scalar.AxisMax", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, int, int>(ScalarKernels.AxisMax));
        k(outer * inner, y, arg, x, n, inner);
    }

    public void AxisMaxBackward(ArrayView<float> dx, ArrayView<float> dy, ArrayView<int> arg, int outer, int n, int inner)
    {
        if ((long)outer * n * inner == 0) return;
        var k = Cache.Get("Scalar.AxisMaxBackward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>,
            ArrayView<int>, int, int>(ScalarKernels.AxisMaxBackward));
        k(outer * n * inner, dx, dy, arg, n, inner);
    }
}
