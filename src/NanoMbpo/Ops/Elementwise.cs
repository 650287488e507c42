// Shared plumbing for the unary elementwise ops (relu, gelu, tanh, ...): dtype dispatch, output
// allocation, chunked (thread-ready) loops and the autograd record. Each op supplies a struct with
// span-level Forward and Backward; pointwise backward formulas use AccumulateGrad, which runs a
// struct kernel over Vector512 / Vector256 / scalar lanes (generic Vector512<T> covers float and double).
// Tested through every unary op's tests in tests/NanoMbpo.Tests/Ops/UnaryOpTests.cs.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NanoMbpo;

/// <summary>A unary op over spans: Forward writes every y = f(x); Backward adds dy ⊙ f'(x) into dx
/// (y is f(x), saved), or writes it when <c>accumulate</c> is false (dx then holds garbage on entry).</summary>
internal interface IUnaryOp
{
    void Forward<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>;
    void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> dy, Span<T> dx, bool accumulate) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>A pointwise gradient formula g·f'(x) from (x, aux, g), aux usually the saved output.</summary>
internal interface IGradKernel
{
    T Grad<T>(T x, T aux, T g) where T : unmanaged, IFloatingPointIeee754<T>;
    Vector512<T> Grad<T>(Vector512<T> x, Vector512<T> aux, Vector512<T> g) where T : unmanaged, IFloatingPointIeee754<T>;
    Vector256<T> Grad<T>(Vector256<T> x, Vector256<T> aux, Vector256<T> g) where T : unmanaged, IFloatingPointIeee754<T>;
}

internal static class Elementwise
{
    /// <summary>Elements per chunk handed to CpuThreads: below this, threading does not pay.</summary>
    public const int Grain = 1 << 15;

    public static Tensor Unary<K>(Tensor x, K op, string name) where K : struct, IUnaryOp
    {
        OpCheck.Float(x, name, "x");
        var y = Tensor.Empty(x.Shape, x.DType);   // Forward writes every element
        int n = x.Length;
        Cpu.CpuThreads.For(n, Grain, (s, e) =>
        {
            if (x.DType == DType.F32) op.Forward<float>(x.F32[s..e], y.F32[s..e]);
            else op.Forward<double>(x.F64[s..e], y.F64[s..e]);
        });
        return Autograd.Record(y, name, dy =>
        {
            if (!x.RequiresGrad) return;
            bool acc;   // false: x's gradient is new and uninitialised, so it is written, not added to
            if (x.DType == DType.F32) x.GradForWrite<float>(out acc); else x.GradForWrite<double>(out acc);
            Cpu.CpuThreads.For(n, Grain, (s, e) =>
            {
                if (x.DType == DType.F32) op.Backward<float>(x.F32[s..e], y.F32[s..e], dy.F32[s..e], x.Grad!.F32[s..e], acc);
                else op.Backward<double>(x.F64[s..e], y.F64[s..e], dy.F64[s..e], x.Grad!.F64[s..e], acc);
            });
        }, x);
    }

    /// <summary>dx[i] += k.Grad(x[i], aux[i], g[i]), or dx[i] = k.Grad(...) when !accumulate.</summary>
    public static void AccumulateGrad<T, K>(K k, ReadOnlySpan<T> x, ReadOnlySpan<T> aux, ReadOnlySpan<T> g, Span<T> dx, bool accumulate = true)
        where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGradKernel
    {
        if (!accumulate) { StoreGrad(k, x, aux, g, dx); return; }
        int n = dx.Length, i = 0;
        ref T px = ref MemoryMarshal.GetReference(x), pa = ref MemoryMarshal.GetReference(aux);
        ref T pg = ref MemoryMarshal.GetReference(g), pd = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var r = k.Grad(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pg, (nuint)i));
                (Vector512.LoadUnsafe(ref pd, (nuint)i) + r).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var r = k.Grad(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pg, (nuint)i));
                (Vector256.LoadUnsafe(ref pd, (nuint)i) + r).StoreUnsafe(ref pd, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) += k.Grad(Unsafe.Add(ref px, i), Unsafe.Add(ref pa, i), Unsafe.Add(ref pg, i));
    }

    /// <summary>dx[i] = k.Grad(x[i], aux[i], g[i]): the first write into a fresh gradient buffer.</summary>
    static void StoreGrad<T, K>(K k, ReadOnlySpan<T> x, ReadOnlySpan<T> aux, ReadOnlySpan<T> g, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> where K : struct, IGradKernel
    {
        int n = dx.Length, i = 0;
        ref T px = ref MemoryMarshal.GetReference(x), pa = ref MemoryMarshal.GetReference(aux);
        ref T pg = ref MemoryMarshal.GetReference(g), pd = ref MemoryMarshal.GetReference(dx);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
                k.Grad(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pg, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
                k.Grad(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pg, (nuint)i)).StoreUnsafe(ref pd, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref pd, i) = k.Grad(Unsafe.Add(ref px, i), Unsafe.Add(ref pa, i), Unsafe.Add(ref pg, i));
    }
}
