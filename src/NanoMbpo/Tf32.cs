// TF32 policy for device matmuls, as torch.backends.cuda.matmul.allow_tf32: off by default (fp32
// SGEMM everywhere). When allowed, device GEMMs the kernel launcher deems worth it (KernelLauncher.UseTf32:
// every side >= 256 and >= 2^28 multiply-adds; or an explicit MinMacs threshold) run on the tensor-core
// TF32 kernel (10-bit mantissa inputs, fp32 accumulation, ~1e-3 relative error) on accelerators that
// can run it (warp 32, groups of at least 64 threads; others stay fp32). A process-wide setting plus a
// per-thread scope that overrides it (tests run in parallel).
// Tested by tests/NanoMbpo.Tests/Dispatch/Tf32PolicyTests.cs.
using NanoMbpo.Kernels;

namespace NanoMbpo;

public static class Tf32
{
    [ThreadStatic] static (bool Allowed, long? MinMacs)? scoped;

    /// <summary>Process-wide: may large device matmuls use TF32? Default false.</summary>
    public static bool Allowed { get; set; }

    /// <summary>Process-wide size threshold (batch·M·N·K multiply-adds) replacing the launcher's shape
    /// rule; null (default) keeps KernelLauncher.UseTf32.</summary>
    public static long? MinMacs { get; set; }

    /// <summary>Whether a device GEMM of this size runs on the TF32 kernel on this thread.</summary>
    public static bool Use(int batch, int m, int n, int k)
    {
        var (allowed, min) = scoped ?? (Allowed, MinMacs);
        if (!allowed) return false;
        return min is { } threshold ? (long)batch * m * n * k >= threshold : KernelLauncher.UseTf32(m, n, k);
    }

    /// <summary>Overrides the policy on this thread until the returned scope is disposed.</summary>
    public static IDisposable Scope(bool allowed, long? minMacs = null)
    {
        if (minMacs < 0) throw new ArgumentOutOfRangeException(nameof(minMacs), minMacs, "expected a size >= 0");
        var previous = scoped;
        scoped = (allowed, minMacs);
        return new Restore(previous);
    }

    sealed class Restore((bool, long?)? previous) : IDisposable
    {
        bool done;
        public void Dispose() { if (!done) { scoped = previous; done = true; } }
    }
}
