// Window copy along one axis, the kernel twin of Ops/Slice.cs (and of Ops/Concat.cs, which is one
// window copy per input). Both tensors are viewed as (Outer, axis, Inner); the window of `len`
// entries starts at srcStart in src and at dstStart in dst. accumulate = 0 overwrites dst (forward),
// 1 adds into it (backward: dx[:, start:start+len] += dy). Windows of one launch never overlap, so
// no atomics are needed.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.IndexKernelTests"; parity: catalog "slice*", "concat*".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Geometry of one window copy; passed to the kernel as one struct.</summary>
public struct WindowArgs
{
    public int Len, Inner, SrcAxis, DstAxis, SrcStart, DstStart, Accumulate;
}

public static class SliceKernels
{
    public static void Copy(Index1D i, ArrayView<float> dst /* (Outer,DstAxis,Inner) */, ArrayView<float> src /* (Outer,SrcAxis,Inner) */, WindowArgs w)
    {
        int block = w.Len * w.Inner;
        int o = i / block, r = i - o * block;
        long s = ((long)o * w.SrcAxis + w.SrcStart) * w.Inner + r;
        long d = ((long)o * w.DstAxis + w.DstStart) * w.Inner + r;
        dst[d] = w.Accumulate != 0 ? dst[d] + src[s] : src[s];
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>dst[o, dstStart + j, :] (=|+=) src[o, srcStart + j, :] for j &lt; len, o &lt; outer.</summary>
    public void WindowCopy(ArrayView<float> dst, ArrayView<float> src, int outer, int inner, int srcAxis, int srcStart,
        int dstAxis, int dstStart, int len, bool accumulate)
    {
        const string op = "window copy";
        Require(outer >= 0 && inner >= 0 && len >= 0, op, $"sizes must be >= 0, got outer={outer} inner={inner} len={len}");
        Require(srcStart >= 0 && srcStart + len <= srcAxis, op, $"source window {srcStart}+{len} exceeds axis {srcAxis}");
        Require(dstStart >= 0 && dstStart + len <= dstAxis, op, $"destination window {dstStart}+{len} exceeds axis {dstAxis}");
        RequireLength(src, (long)outer * srcAxis * inner, op, "src");
        RequireLength(dst, (long)outer * dstAxis * inner, op, "dst");
        long n = (long)outer * len * inner;
        if (n == 0) return;
        Require(n <= int.MaxValue, op, $"{n} elements exceed one launch");
        var k = Cache.Get("Slice.Copy", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, WindowArgs>(SliceKernels.Copy));
        k((int)n, dst, src, new WindowArgs
        {
            Len = len, Inner = inner, SrcAxis = srcAxis, DstAxis = dstAxis, SrcStart = srcStart, DstStart = dstStart,
            Accumulate = accumulate ? 1 : 0,
        });
    }
}
