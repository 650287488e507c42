// Seeded random fill from a counter-based hash: element i of a fill with (seed, offset) uses the
// SplitMix64 outputs number 2(offset+i) and 2(offset+i)+1 of the stream started at seed, so values
// depend only on (seed, offset, i), never on launch geometry or device. Uniform in [low, high) from
// 24 bits; normal by Box-Muller on the two draws. RandomReference reproduces them on the host.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.OptimizerKernelTests".
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class RandomKernels
{
    const ulong Gamma = 0x9E3779B97F4A7C15UL;

    /// <summary>The n-th (0-based) output of SplitMix64 seeded with <paramref name="seed"/>.</summary>
    public static ulong SplitMix(ulong seed, ulong n)
    {
        ulong z = seed + (n + 1) * Gamma;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Top 24 bits as a float in [0, 1).</summary>
    public static float ToUnit(ulong z) => (z >> 40) * (1f / 16777216f);

    public static void Uniform(Index1D i, ArrayView<float> output, ulong seed, long offset, float low, float high)
    {
        ulong n = 2UL * (ulong)(offset + i);
        output[i] = low + (high - low) * ToUnit(SplitMix(seed, n));
    }

    public static void Normal(Index1D i, ArrayView<float> output, ulong seed, long offset, float mean, float std)
    {
        ulong n = 2UL * (ulong)(offset + i);
        float u1 = ToUnit(SplitMix(seed, n)) + 1f / 16777216f; // (0, 1]: log stays finite
        float u2 = ToUnit(SplitMix(seed, n + 1));
        float radius = XMath.Sqrt(-2f * XMath.Log(u1));
        output[i] = mean + std * radius * XMath.Cos(6.28318530717958648f * u2);
    }
}

public sealed partial class KernelLauncher
{
    /// <summary>Fills output with U[low, high) draws for elements offset..offset+n-1 of stream seed.</summary>
    public void RandomUniform(ArrayView<float> output, ulong seed, long offset = 0, float low = 0f, float high = 1f)
    {
        var k = Cache.Get("Random.Uniform", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, long,
            float, float>(RandomKernels.Uniform));
        k((int)output.Length, output, seed, offset, low, high);
    }

    public void RandomNormal(ArrayView<float> output, ulong seed, long offset = 0, float mean = 0f, float std = 1f)
    {
        var k = Cache.Get("Random.Normal", a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ulong, long,
            float, float>(RandomKernels.Normal));
        k((int)output.Length, output, seed, offset, mean, std);
    }
}
