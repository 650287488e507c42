// Small vector helpers over spans used by many ops' forward and backward passes. They delegate to
// TensorPrimitives (SIMD, generic over float and double) wherever it has the operation.
using System.Numerics;
using System.Numerics.Tensors;

namespace NanoMbpo.Cpu;

public static class Vec
{
    /// <summary>dst += src.</summary>
    public static void AddInPlace<T>(Span<T> dst, ReadOnlySpan<T> src) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dst.Length != src.Length) throw new ArgumentException($"length {src.Length} != {dst.Length}.", nameof(src));
        TensorPrimitives.Add(dst, src, dst);
    }

    /// <summary>dst += alpha * src.</summary>
    public static void AxpyInPlace<T>(Span<T> dst, T alpha, ReadOnlySpan<T> src) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dst.Length != src.Length) throw new ArgumentException($"length {src.Length} != {dst.Length}.", nameof(src));
        TensorPrimitives.MultiplyAdd(src, alpha, dst, dst);
    }

    /// <summary>Sum with double accumulation (deterministic order) — used where exactness matters more than speed.</summary>
    public static double SumDouble<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (var v in x) s += double.CreateTruncating(v);
        return s;
    }

    /// <summary>Dot product with double accumulation.</summary>
    public static double DotDouble<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += double.CreateTruncating(x[i]) * double.CreateTruncating(y[i]);
        return s;
    }
}
