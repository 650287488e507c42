// KernelCache: loads each ILGPU kernel once per accelerator and caches its launcher delegate;
// KernelLauncher: thin typed launch methods over ArrayViews (one partial file per op family).
// Contexts must be created with .EnableAlgorithms() (XMath intrinsics); see KernelContext.
// Tested by tests/NanoMbpo.Tests/Kernels/* (parity against double-precision reference loops).
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo.Kernels;

/// <summary>Per-accelerator cache of loaded kernel delegates. Loading compiles the kernel
/// (0.2-1.4 s on the CPU accelerator), so it must never happen inside a loop.</summary>
public sealed class KernelCache
{
    static readonly ConditionalWeakTable<Accelerator, KernelCache> Caches = new();
    readonly ConcurrentDictionary<string, object> loaded = new();

    KernelCache(Accelerator accelerator) => Accelerator = accelerator;

    public Accelerator Accelerator { get; }

    public static KernelCache For(Accelerator accelerator) =>
        Caches.GetValue(accelerator, a => new KernelCache(a));

    /// <summary>Returns the delegate cached under <paramref name="key"/>, loading it on first use.</summary>
    public T Get<T>(string key, Func<Accelerator, T> load) where T : class =>
        (T)loaded.GetOrAdd(key, _ => load(Accelerator));

    public int Count => loaded.Count;
}

/// <summary>Creates ILGPU contexts configured the way the kernels need them.</summary>
public static class KernelContext
{
    /// <summary>CUDA devices first (when the driver and a device exist), then the CPU accelerator.</summary>
    public static Context CreateCudaThenCpu(CPUDevice? cpu = null) =>
        Context.Create(b => b.Cuda().CPU(cpu ?? CPUDevice.Nvidia).EnableAlgorithms());

    public static Context CreateCpu(CPUDevice? cpu = null) =>
        Context.Create(b => b.CPU(cpu ?? CPUDevice.Nvidia).EnableAlgorithms());

    /// <summary>True when a CUDA driver and at least one device are present; never throws.</summary>
    public static bool HasCuda()
    {
        try
        {
            using var context = Context.Create(b => b.Cuda());
            return context.GetCudaDevices().Count > 0;
        }
        catch (Exception)
        {
            return false;
        }
    }
}

/// <summary>Typed launchers. Argument order mirrors the kernels: outputs, inputs, sizes.
/// Launches are asynchronous on the accelerator's default stream (no host round trip);
/// call <c>Accelerator.Synchronize()</c> before reading results on the host.</summary>
public sealed partial class KernelLauncher
{
    static readonly ConditionalWeakTable<Accelerator, KernelLauncher> Launchers = new();

    KernelLauncher(Accelerator accelerator)
    {
        Accelerator = accelerator;
        Cache = KernelCache.For(accelerator);
        WarpSize = accelerator.WarpSize;
        MaxGroupSize = accelerator.MaxNumThreadsPerGroup;
    }

    public Accelerator Accelerator { get; }
    public KernelCache Cache { get; }
    public int WarpSize { get; }
    public int MaxGroupSize { get; }

    public static KernelLauncher For(Accelerator accelerator) =>
        Launchers.GetValue(accelerator, a => new KernelLauncher(a));

    /// <summary>Group size for a row kernel over rows of <paramref name="c"/> elements: a multiple of
    /// the warp size, at most <paramref name="cap"/> threads and the device limit.</summary>
    internal int RowGroupSize(int c, int cap = 256)
    {
        int limit = Math.Min(cap, MaxGroupSize) / WarpSize * WarpSize;
        int want = (c + WarpSize - 1) / WarpSize * WarpSize;
        return Math.Max(WarpSize, Math.Min(want, limit));
    }

    internal static void Require(bool ok, string op, string what)
    {
        if (!ok) throw new ArgumentException($"{op}: {what}");
    }

    internal static void RequireLength<T>(ArrayView<T> view, long expected, string op, string name)
        where T : unmanaged
    {
        if (view.Length < expected)
            throw new ArgumentException(
                $"{op}: buffer '{name}' has {view.Length} elements, expected at least {expected}");
    }
}
