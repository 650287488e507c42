// Embedding lookup: out (N,C) = weight[idx[n], :]; backward scatter-adds dout rows into dweight (V,C)
// with atomic adds (rows repeat when a token repeats). Indices must be in [0, V); the launcher cannot
// check them without a host round trip, so out-of-range indices read/write 0 instead of faulting.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.IndexKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class EmbeddingKernels
{
    public static void Forward(Index1D i, ArrayView<float> output /* (N,C) */, ArrayView<float> weight /* (V,C) */,
        ArrayView<int> idx /* (N) */, int c, int vocab)
    {
        int n = i / c, col = i - n * c, row = idx[n];
        output[i] = row >= 0 && row < vocab ? weight[(long)row * c + col] : 0f;
    }

    /// <summary>dweight[idx[n], c] += dout[n, c]. Accumulates: zero dweight first if needed.
    /// Float atomics make the summation order (and last bits) vary between runs on a GPU.</summary>
    public static void Backward(Index1D i, ArrayView<float> dweight /* (V,C) */, ArrayView<float> dout /* (N,C) */,
        ArrayView<int> idx /* (N) */, int c, int vocab)
    {
        int n = i / c, col = i - n * c, row = idx[n];
        if (row >= 0 && row < vocab) Atomic.Add(ref dweight[(long)row * c + col], dout[i]);
    }
}

public sealed partial class KernelLauncher
{
    public void Embedding(ArrayView<float> output, ArrayView<float> weight, ArrayView<int> idx, int n, int vocab, int c)
    {
        RequireLength(output, (long)n * c, "embedding", "output"); RequireLength(weight, (long)vocab * c, "embedding", "weight");
        RequireLength(idx, n, "embedding", "idx");
        var k = Cache.Get("Embedding.Forward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, int, int>(EmbeddingKernels.Forward));
        k(n * c, output, weight, idx, c, vocab);
    }

    /// <summary>Adds the gradient rows into <paramref name="dweight"/> (V,C); it is not cleared.</summary>
    public void EmbeddingBackward(ArrayView<float> dweight, ArrayView<float> dout, ArrayView<int> idx, int n, int vocab, int c)
    {
        RequireLength(dout, (long)n * c, "embedding backward", "dout"); RequireLength(dweight, (long)vocab * c, "embedding backward", "dweight");
        RequireLength(idx, n, "embedding backward", "idx");
        var k = Cache.Get("Embedding.Backward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, ArrayView<int>, int, int>(EmbeddingKernels.Backward));
        k(n * c, dweight, dout, idx, c, vocab);
    }
}
