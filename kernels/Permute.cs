// Permute: y = x with its axes reordered (y axis i is x axis perm[i]), rank ≤ 6, one thread per output
// element. The host collapses axes that stay adjacent first (so the attention head split
// (B,T,NH,HS)→(B,NH,T,HS) is a rank-4 gather over HS-element runs). Backward is the inverse perm.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.PermuteKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

/// <summary>Output sizes and the source stride of each output axis (unused axes: size 1, stride 0).</summary>
public struct PermuteArgs
{
    public const int MaxRank = 6;
    public int Rank;
    public int O0, O1, O2, O3, O4, O5;
    public long S0, S1, S2, S3, S4, S5;

    public readonly int Size(int d) => d switch { 0 => O0, 1 => O1, 2 => O2, 3 => O3, 4 => O4, _ => O5 };
    public readonly long Stride(int d) => d switch { 0 => S0, 1 => S1, 2 => S2, 3 => S3, 4 => S4, _ => S5 };

    /// <summary>Builds the arguments for x of <paramref name="srcShape"/> permuted by <paramref name="perm"/>.</summary>
    public static PermuteArgs For(int[] srcShape, int[] perm)
    {
        int rank = srcShape.Length;
        if (perm.Length != rank) throw new ArgumentException($"permute: perm has {perm.Length} axes, shape has {rank}.");
        var srcStride = new long[rank];
        long s = 1;
        for (int i = rank - 1; i >= 0; i--) { srcStride[i] = s; s *= srcShape[i]; }
        var dims = new List<int>(); var strides = new List<long>();
        int prev = -2;
        for (int i = 0; i < rank; i++)
        {
            int a = perm[i], d = srcShape[a];
            if (d == 1) continue;
            if (prev >= 0 && a == prev + 1) { dims[^1] *= d; strides[^1] = srcStride[a]; }
            else { dims.Add(d); strides.Add(srcStride[a]); }
            prev = a;
        }
        if (dims.Count > MaxRank)
            throw new NotSupportedException($"permute: {dims.Count} axes remain after merging adjacent ones; the device kernel handles at most {MaxRank}.");
        var g = new PermuteArgs { Rank = dims.Count };
        for (int d = 0; d < MaxRank; d++)
        {
            int size = d < dims.Count ? dims[d] : 1; long st = d < dims.Count ? strides[d] : 0;
            switch (d)
            {
                case 0: g.O0 = size; g.S0 = st; break;
                case 1: g.O1 = size; g.S1 = st; break;
                case 2: g.O2 = size; g.S2 = st; break;
                case 3: g.O3 = size; g.S3 = st; break;
                case 4: g.O4 = size; g.S4 = st; break;
                default: g.O5 = size; g.S5 = st; break;
            }
        }
        return g;
    }
}

public static class PermuteKernels
{
    public static void Forward(Index1D i, ArrayView<float> y /* permuted shape */, ArrayView<float> x /* source */, PermuteArgs g)
    {
        long rem = i, src = 0;
        for (int d = g.Rank - 1; d >= 0; d--)
        {
            int size = g.Size(d);
            src += rem % size * g.Stride(d);
            rem /= size;
        }
        y[i] = x[src];
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>y (n elements, permuted order) = x permuted by <paramref name="g"/> (overwritten).</summary>
    public void Permute(ArrayView<float> y, ArrayView<float> x, PermuteArgs g)
    {
        RequireLength(y, x.Length, "permute", "y");
        if (x.Length == 0) return;
        var k = Cache.Get("Permute.Forward", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>,
            ArrayView<float>, PermuteArgs>(PermuteKernels.Forward));
        k((int)x.Length, y, x, g);
    }
}
