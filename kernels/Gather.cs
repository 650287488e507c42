// Gather by index along the last axis: out (R,K) = x[r, idx[r, k]] (torch.gather(x, -1, idx)); the
// backward scatter-adds dout into dx (R,C) with atomics (an index may repeat within a row).
// Out-of-range indices give 0 and receive no gradient.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.IndexKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class GatherKernels
{
    public static void Forward(Index1D i, ArrayView<float> output /* (R,K) */, ArrayView<float> x /* (R,C) */,
        ArrayView<int> idx /* (R,K) */, int k, int c)
    {
        int r = i / k, col = idx[i];
        output[i] = col >= 0 && col < c ? x[(long)r * c + col] : 0f;
    }

    /// <summary>dx[r, idx[r, k]] += dout[r, k]. Accumulates: zero dx first if needed.</summary>
    public static void Backward(Index1D i, ArrayView<float> dx /* (R,C) */, ArrayView<float> dout /* (R,K) */,
        ArrayView<int> idx /* (R,K) */, int k, int c)
    {
        int r = i / k, col = idx[i];
        if (col >= 0 && col < c) Atomic.Add(ref dx[(long)r * c + col], dout[i]);
    }
}

public sealed partial class KernelLauncher
{
    public void Gather(ArrayView<float> output, ArrayView<float> x, ArrayView<int> idx, int r, int c, int k)
    {
        RequireLength(output, (long)r * k, "gather", "output"); RequireLength(x, (long)r * c, "gather", "x");
        RequireLength(idx, (long)r * k, "gather", "idx");
        var kernel = Cache.Get("Gather.Forward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, int, int>(GatherKernels.Forward));
        kernel(r * k, output, x, idx, k, c);
    }

    /// <summary>Adds into <paramref name="dx"/> (R,C); it is not cleared.</summary>
    public void GatherBackward(ArrayView<float> dx, ArrayView<float> dout, ArrayView<int> idx, int r, int c, int k)
    {
        RequireLength(dout, (long)r * k, "gather backward", "dout"); RequireLength(dx, (long)r * c, "gather backward", "dx");
        RequireLength(idx, (long)r * k, "gather backward", "idx");
        var kernel = Cache.Get("Gather.Backward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, int, int>(GatherKernels.Backward));
        kernel(r * k, dx, dout, idx, k, c);
    }
}
