// Shared support for the ILGPU kernel parity tests: a per-class fixture holding the CPU accelerators
// (warp-32 emulation and the default warp-4 device) and, when present, a CUDA accelerator; a
// CudaFact attribute that skips at discovery time when no CUDA device exists; reference helpers.
// Run: dotnet test -c Release --filter "FullyQualifiedName~NanoMbpo.Tests.Kernels".
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

/// <summary>One set of accelerators per test class (created once, disposed after the class).</summary>
public sealed class IlgpuFixture : IDisposable
{
    readonly Context nvidiaContext;
    readonly Lazy<(Context, Accelerator)> defaultCpu;
    readonly Lazy<(Context, Accelerator)?> cuda;

    public IlgpuFixture()
    {
        // Warp 32 like CPUDevice.Nvidia, but 4 warps per group instead of 32: the CPU accelerator
        // runs one OS thread per emulated thread, and 1024 threads on a 2-core CI box make every
        // barrier crawl. Same warp semantics, 128-thread groups.
        nvidiaContext = KernelContext.CreateCpu(Warp32Device);
        CpuWarp32 = nvidiaContext.CreateCPUAccelerator(0);
        defaultCpu = new(() =>
        {
            var ctx = KernelContext.CreateCpu(CPUDevice.Default);
            return (ctx, ctx.CreateCPUAccelerator(0));
        });
        cuda = new(() =>
        {
            if (!CudaFactAttribute.HasCuda) return null;
            var ctx = Context.Create(b => b.Cuda().EnableAlgorithms());
            return (ctx, ctx.CreateCudaAccelerator(0));
        });
    }

    public static readonly CPUDevice Warp32Device = new(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 4, numMultiprocessors: 1);

    /// <summary>Warp size 32 (as CPUDevice.Nvidia), up to 128 threads per group.</summary>
    public Accelerator CpuWarp32 { get; }

    /// <summary>CPUDevice.Default: warp size 4, at most 16 threads per group; catches kernels that
    /// assume a warp of 32.</summary>
    public Accelerator CpuWarp4 => defaultCpu.Value.Item2;

    public Accelerator Cuda => cuda.Value?.Item2 ?? throw new InvalidOperationException("no CUDA device");

    public void Dispose()
    {
        if (cuda.IsValueCreated && cuda.Value is { } c) { c.Item2.Dispose(); c.Item1.Dispose(); }
        if (defaultCpu.IsValueCreated) { defaultCpu.Value.Item2.Dispose(); defaultCpu.Value.Item1.Dispose(); }
        CpuWarp32.Dispose();
        nvidiaContext.Dispose();
    }
}

/// <summary>A fact that runs only when a CUDA device is present; otherwise it is reported as skipped
/// with the reason, decided when tests are discovered.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    static readonly Lazy<bool> Present = new(KernelContext.HasCuda);

    public static bool HasCuda => Present.Value;

    public CudaFactAttribute()
    {
        if (!HasCuda) Skip = "No CUDA device/driver on this machine; the CPU-accelerator variant ran instead.";
    }
}

/// <summary>A theory that runs only when a CUDA device is present (skipped with the reason otherwise).</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (!CudaFactAttribute.HasCuda) Skip = "No CUDA device/driver on this machine; the CPU-accelerator variant ran instead.";
    }
}

/// <summary>Reference data and comparisons. Inputs are float; references accumulate in double.</summary>
public static class Ref
{
    public static float[] Randn(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            a[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return a;
    }

    public static float[] Uniform(int n, int seed, float lo, float hi)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng.NextDouble());
        return a;
    }

    /// <summary>Asserts max_i |actual - expected| / max(|expected|, floor) ≤ tol and returns it.
    /// floor = 1 for accumulations (GEMM, reductions, attention) whose inputs are O(1), so tiny
    /// entries are judged on absolute error; elementwise checks use a small floor.</summary>
    public static double AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, double tol,
        string what, double floor = 1e-3)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            double err = double.IsInfinity(e) && e == a ? 0 : Math.Abs(a - e) / Math.Max(Math.Abs(e), floor);
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            if (err > worst) { worst = err; at = i; }
        }
        Assert.True(worst <= tol,
            $"{what}: max relative error {worst:E3} at [{at}] (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)}) > {tol:E1}");
        return worst;
    }

    /// <summary>Uploads, runs, synchronises: small helper so tests read like the math.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(this Accelerator acc, T[] data) where T : unmanaged
    {
        var buf = acc.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0) buf.View.SubView(0, data.Length).CopyFromCPU(data);
        return buf;
    }

    public static MemoryBuffer1D<T, Stride1D.Dense> Zeros<T>(this Accelerator acc, int n) where T : unmanaged
    {
        var buf = acc.Allocate1D<T>(Math.Max(1, n));
        buf.MemSetToZero();
        return buf;
    }

    public static T[] Read<T>(this MemoryBuffer1D<T, Stride1D.Dense> buf, int n) where T : unmanaged
    {
        var all = buf.GetAsArray1D();
        return all.AsSpan(0, n).ToArray();
    }

    /// <summary>Double-precision erfc: power series for |x| &lt; 3, continued fraction beyond.</summary>
    public static double Erfc(double x)
    {
        if (x < 0) return 2 - Erfc(-x);
        if (x < 3)
        {
            double sum = 0, term = x; int n = 0;
            while (Math.Abs(term) > 1e-17 * Math.Abs(sum) || n < 3)
            {
                sum += term / (2 * n + 1);
                n++;
                term *= -x * x / n;
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        // Lentz-free backward evaluation of erfc's continued fraction.
        double f = 0;
        for (int k = 60; k >= 1; k--) f = k / 2.0 / (x + f);
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / (x + f);
    }
}
