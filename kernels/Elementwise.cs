// Elementwise kernels: unary activations (relu, tanh, sigmoid, silu, softplus, exp, log; gelu lives in
// Gelu.cs) forward/backward through one generic kernel per direction, and binary add/sub/mul/div with
// same-shape, row (b is (C)) or column (b is (R)) broadcast, forward and backward.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.ElementwiseKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>A unary op as a struct so ILGPU specialises the generic kernel per op (no virtual calls).</summary>
public interface IUnaryOp
{
    float Forward(float x);
    /// <summary>dx given the input x, the forward output y and the upstream gradient dy.</summary>
    float Backward(float x, float y, float dy);
}

public struct ReluOp : IUnaryOp
{
    public readonly float Forward(float x) => x > 0f ? x : 0f;
    public readonly float Backward(float x, float y, float dy) => x > 0f ? dy : 0f;
}

public struct TanhOp : IUnaryOp
{
    // Not XMath.Tanh: on CUDA it lowers to a fast approximation that missed the 1e-5 parity bar on an
    // H100 (bench/RESULTS.md). (1 − e)/(1 + e) with e = exp(−2|x|) never overflows and keeps full
    // relative precision away from 0; below |x| = 0.1 (where 1 − e cancels) the odd Taylor series to
    // x⁹ is exact to float precision.
    public readonly float Forward(float x)
    {
        float ax = Math.Abs(x);
        if (ax < 0.1f)
        {
            float x2 = x * x;
            return x * (1f + x2 * (-1f / 3f + x2 * (2f / 15f + x2 * (-17f / 315f + x2 * (62f / 2835f)))));
        }
        float e = XMath.Exp(-2f * ax);
        float t = (1f - e) / (1f + e);
        return x < 0f ? -t : t;
    }
    public readonly float Backward(float x, float y, float dy) => dy * (1f - y * y);
}

public struct SigmoidOp : IUnaryOp
{
    public readonly float Forward(float x) => ScalarMath.Sigmoid(x);
    public readonly float Backward(float x, float y, float dy) => dy * y * (1f - y);
}

public struct SiluOp : IUnaryOp
{
    public readonly float Forward(float x) => x * ScalarMath.Sigmoid(x);
    public readonly float Backward(float x, float y, float dy)
    {
        float s = ScalarMath.Sigmoid(x);
        return dy * s * (1f + x * (1f - s));
    }
}

/// <summary>softplus(x) = log(1 + exp(x)), written as max(x, 0) + log1p(exp(-|x|)) so it neither
/// overflows nor loses relative precision for very negative x.</summary>
public struct SoftplusOp : IUnaryOp
{
    public readonly float Forward(float x) => Math.Max(x, 0f) + ScalarMath.Log1P(XMath.Exp(-Math.Abs(x)));
    public readonly float Backward(float x, float y, float dy) => dy * ScalarMath.Sigmoid(x);
}

public struct ExpOp : IUnaryOp
{
    public readonly float Forward(float x) => XMath.Exp(x);
    public readonly float Backward(float x, float y, float dy) => dy * y;
}

public struct LogOp : IUnaryOp
{
    public readonly float Forward(float x) => XMath.Log(x);
    public readonly float Backward(float x, float y, float dy) => dy / x;
}

/// <summary>Scalar helpers usable inside kernels.</summary>
public static class ScalarMath
{
    public static float Sigmoid(float x)
    {
        // Two branches so exp never overflows.
        if (x >= 0f) return 1f / (1f + XMath.Exp(-x));
        float e = XMath.Exp(x);
        return e / (1f + e);
    }

    /// <summary>log(1 + e) accurate for tiny e (Goldberg's trick: the rounding of 1 + e cancels).</summary>
    public static float Log1P(float e)
    {
        float u = 1f + e;
        return u == 1f ? e : XMath.Log(u) * e / (u - 1f);
    }
}

/// <summary>A binary op with its partial derivatives, as a struct for generic specialisation.</summary>
public interface IBinaryOp
{
    float Forward(float a, float b);
    float GradA(float a, float b, float dout);
    float GradB(float a, float b, float dout);
}

public struct AddOp : IBinaryOp
{
    public readonly float Forward(float a, float b) => a + b;
    public readonly float GradA(float a, float b, float dout) => dout;
    public readonly float GradB(float a, float b, float dout) => dout;
}

public struct SubOp : IBinaryOp
{
    public readonly float Forward(float a, float b) => a - b;
    public readonly float GradA(float a, float b, float dout) => dout;
    public readonly float GradB(float a, float b, float dout) => -dout;
}

public struct MulOp : IBinaryOp
{
    public readonly float Forward(float a, float b) => a * b;
    public readonly float GradA(float a, float b, float dout) => dout * b;
    public readonly float GradB(float a, float b, float dout) => dout * a;
}

public struct DivOp : IBinaryOp
{
    public readonly float Forward(float a, float b) => a / b;
    public readonly float GradA(float a, float b, float dout) => dout / b;
    public readonly float GradB(float a, float b, float dout) => -dout * a / (b * b);
}

/// <summary>How the second operand b lines up with a (R,C).</summary>
public enum Broadcast
{
    /// <summary>b is (R,C) like a.</summary>
    None = 0,
    /// <summary>b is (C), repeated over rows (e.g. a bias).</summary>
    Row = 1,
    /// <summary>b is (R), repeated over columns (e.g. a per-row scale).</summary>
    Column = 2,
}

public static class ElementwiseKernels
{
    public static void UnaryForward<TOp>(Index1D i, ArrayView<float> y, ArrayView<float> x)
        where TOp : struct, IUnaryOp => y[i] = default(TOp).Forward(x[i]);

    public static void UnaryBackward<TOp>(Index1D i, ArrayView<float> dx, ArrayView<float> dy,
        ArrayView<float> x, ArrayView<float> y)
        where TOp : struct, IUnaryOp => dx[i] = default(TOp).Backward(x[i], y[i], dy[i]);

    static int BIndex(int i, int c, int mode) => mode == 0 ? i : mode == 1 ? i % c : i / c;

    public static void BinaryForward<TOp>(Index1D i, ArrayView<float> y /* (R,C) */, ArrayView<float> a /* (R,C) */,
        ArrayView<float> b, int c, int mode) where TOp : struct, IBinaryOp =>
        y[i] = default(TOp).Forward(a[i], b[BIndex(i, c, mode)]);

    public static void BinaryBackwardA<TOp>(Index1D i, ArrayView<float> da /* (R,C) */, ArrayView<float> dy,
        ArrayView<float> a, ArrayView<float> b, int c, int mode) where TOp : struct, IBinaryOp =>
        da[i] = default(TOp).GradA(a[i], b[BIndex(i, c, mode)], dy[i]);

    /// <summary>Thread per element of b; a broadcast b sums its gradient over the repeated axis in
    /// index order (deterministic, no atomics).</summary>
    public static void BinaryBackwardB<TOp>(Index1D j, ArrayView<float> db, ArrayView<float> dy /* (R,C) */,
        ArrayView<float> a, ArrayView<float> b, int r, int c, int mode) where TOp : struct, IBinaryOp
    {
        var op = default(TOp);
        float bj = b[j];
        if (mode == 0) { db[j] = op.GradB(a[j], bj, dy[j]); return; }
        float acc = 0f;
        if (mode == 1)
            for (int i = 0; i < r; i++) { long k = (long)i * c + j; acc += op.GradB(a[k], bj, dy[k]); }
        else
            for (int i = 0; i < c; i++) { long k = (long)(int)j * c + i; acc += op.GradB(a[k], bj, dy[k]); }
        db[j] = acc;
    }
}

public sealed partial class KernelLauncher
{
    public void UnaryForward<TOp>(ArrayView<float> y, ArrayView<float> x) where TOp : struct, IUnaryOp
    {
        RequireLength(y, x.Length, typeof(TOp).Name, "y");
        var k = Cache.Get("UnaryForward<" + typeof(TOp).Name + ">", a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(
                ElementwiseKernels.UnaryForward<TOp>));
        k((int)x.Length, y, x);
    }

    /// <summary>dx = dy * f'(x); <paramref name="y"/> is the forward output (tanh/sigmoid/exp use it).</summary>
    public void UnaryBackward<TOp>(ArrayView<float> dx, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> y)
        where TOp : struct, IUnaryOp
    {
        string op = typeof(TOp).Name + " backward";
        RequireLength(dx, x.Length, op, "dx"); RequireLength(dy, x.Length, op, "dy"); RequireLength(y, x.Length, op, "y");
        var k = Cache.Get("UnaryBackward<" + typeof(TOp).Name + ">", a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(
                ElementwiseKernels.UnaryBackward<TOp>));
        k((int)x.Length, dx, dy, x, y);
    }

    static long BLength(int r, int c, Broadcast mode) =>
        mode == Broadcast.None ? (long)r * c : mode == Broadcast.Row ? c : r;

    /// <summary>y (R,C) = a (R,C) op b, b shaped by <paramref name="mode"/>.</summary>
    public void BinaryForward<TOp>(ArrayView<float> y, ArrayView<float> a, ArrayView<float> b, int r, int c,
        Broadcast mode = Broadcast.None) where TOp : struct, IBinaryOp
    {
        string op = typeof(TOp).Name;
        RequireLength(a, (long)r * c, op, "a"); RequireLength(y, (long)r * c, op, "y"); RequireLength(b, BLength(r, c, mode), op, "b");
        var k = Cache.Get("BinaryForward<" + op + ">", acc =>
            acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(
                ElementwiseKernels.BinaryForward<TOp>));
        k(r * c, y, a, b, c, (int)mode);
    }

    /// <summary>Gradients of y = a op b: da (R,C) and db (shape of b). Either may be skipped with
    /// an empty view. Both are overwritten, not accumulated.</summary>
    public void BinaryBackward<TOp>(ArrayView<float> da, ArrayView<float> db, ArrayView<float> dy,
        ArrayView<float> a, ArrayView<float> b, int r, int c, Broadcast mode = Broadcast.None)
        where TOp : struct, IBinaryOp
    {
        string op = typeof(TOp).Name + " backward";
        RequireLength(a, (long)r * c, op, "a"); RequireLength(dy, (long)r * c, op, "dy"); RequireLength(b, BLength(r, c, mode), op, "b");
        if (da.Length > 0)
        {
            RequireLength(da, (long)r * c, op, "da");
            var ka = Cache.Get("BinaryBackwardA<" + typeof(TOp).Name + ">", acc =>
                acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                    ArrayView<float>, int, int>(ElementwiseKernels.BinaryBackwardA<TOp>));
            ka(r * c, da, dy, a, b, c, (int)mode);
        }
        if (db.Length > 0)
        {
            RequireLength(db, BLength(r, c, mode), op, "db");
            var kb = Cache.Get("BinaryBackwardB<" + typeof(TOp).Name + ">", acc =>
                acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                    ArrayView<float>, int, int, int>(ElementwiseKernels.BinaryBackwardB<TOp>));
            kb((int)BLength(r, c, mode), db, dy, a, b, r, c, (int)mode);
        }
    }
}
