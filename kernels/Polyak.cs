// Polyak (soft target) averaging for SAC target networks over a flat buffer:
// target = target + tau * (source - target) = (1 - tau) target + tau source.
// Test: dotnet test --filter "FullyQualifiedName~Kernels.OptimizerKernelTests".
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Kernels;

public static class PolyakKernels
{
    public static void Update(Index1D i, ArrayView<float> target, ArrayView<float> source, float tau) =>
        target[i] += tau * (source[i] - target[i]);
}

public sealed partial class KernelLauncher
{
    public void Polyak(ArrayView<float> target, ArrayView<float> source, float tau)
    {
        RequireLength(source, target.Length, "polyak", "source");
        Require(tau >= 0f && tau <= 1f, "polyak", $"tau must be in [0, 1], got {tau}");
        var k = Cache.Get("Polyak.Update", a =>
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(PolyakKernels.Update));
        k((int)target.Length, target, source, tau);
    }
}
