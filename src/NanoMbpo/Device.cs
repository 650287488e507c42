// Device: where a tensor's storage lives — the CPU SIMD path, or an ILGPU accelerator (a CUDA GPU,
// or ILGPU's CPU accelerator, which runs the same kernels slowly so CI can test them without a GPU).
// One ILGPU context and accelerator per kind, created on first use and kept for the process.
// `Resolve("auto")` picks CUDA when a device is present, else the CPU SIMD path, and says which.
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace NanoMbpo;

public enum DeviceKind { Cpu, Cuda, IlgpuCpu }

/// <summary>A device was asked for that this machine cannot provide (no CUDA driver or device).</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class Device
{
    public DeviceKind Kind { get; }
    public string Name { get; }
    /// <summary>The ILGPU accelerator; null for the CPU SIMD path.</summary>
    public Accelerator? Accelerator { get; }

    Device(DeviceKind kind, string name, Accelerator? accelerator) { Kind = kind; Name = name; Accelerator = accelerator; }

    public static readonly Device Cpu = new(DeviceKind.Cpu, "cpu", null);
    public bool IsCpu => Kind == DeviceKind.Cpu;
    public override string ToString() => Name;

    static readonly object Gate = new();
    static Device? cuda, ilgpuCpu;
    static Context? cudaContext, cpuContext;

    /// <summary>ILGPU's CPU accelerator emulating a warp of 32 with 4 warps per group (128 threads): it
    /// runs one OS thread per emulated thread, so CPUDevice.Nvidia's 1024-thread groups make every
    /// barrier crawl on a small CI box. For kernel and dispatch tests.</summary>
    public static Device IlgpuCpu
    {
        get
        {
            lock (Gate)
            {
                if (ilgpuCpu is not null) return ilgpuCpu;
                cpuContext = Context.Create(b => b.CPU(new CPUDevice(numThreadsPerWarp: 32, numWarpsPerMultiprocessor: 1, numMultiprocessors: 1)).EnableAlgorithms());
                return ilgpuCpu = new Device(DeviceKind.IlgpuCpu, "ilgpu-cpu", cpuContext.CreateCPUAccelerator(0));
            }
        }
    }

    /// <summary>The first CUDA GPU; throws <see cref="DeviceUnavailableException"/> when there is none.</summary>
    public static Device Cuda
    {
        get
        {
            lock (Gate)
            {
                if (cuda is not null) return cuda;
                try
                {
                    cudaContext ??= Context.Create(b => b.Cuda().EnableAlgorithms());
                    var devices = cudaContext.GetCudaDevices();
                    if (devices.Count == 0) throw new DeviceUnavailableException("no CUDA device found (the CUDA driver loaded but lists no GPU).");
                    var acc = cudaContext.CreateCudaAccelerator(0);
                    return cuda = new Device(DeviceKind.Cuda, $"cuda ({acc.Name})", acc);
                }
                catch (DeviceUnavailableException) { throw; }
                catch (Exception e)
                {
                    throw new DeviceUnavailableException($"CUDA is not available: {e.GetType().Name}: {e.Message}", e);
                }
            }
        }
    }

    /// <summary>True when a CUDA driver and device are present; never throws.</summary>
    public static bool CudaAvailable()
    {
        try { _ = Cuda; return true; }
        catch (DeviceUnavailableException) { return false; }
    }

    /// <summary>Parses `auto|cpu|cuda|ilgpu-cpu`. `auto` is CUDA when present, else the CPU SIMD
    /// path; the choice (and any fallback) is reported on <paramref name="log"/> in one line.</summary>
    public static Device Resolve(string spec, TextWriter? log = null)
    {
        switch (spec.Trim().ToLowerInvariant())
        {
            case "cpu": log?.WriteLine("device: cpu (SIMD)"); return Cpu;
            case "ilgpu-cpu": log?.WriteLine("device: ilgpu-cpu (ILGPU CPU accelerator; slow, for testing kernels)"); return IlgpuCpu;
            case "cuda":
                var d = Cuda;
                log?.WriteLine($"device: {d.Name}");
                return d;
            case "auto":
                try
                {
                    var c = Cuda;
                    log?.WriteLine($"device: {c.Name} (auto)");
                    return c;
                }
                catch (DeviceUnavailableException e)
                {
                    log?.WriteLine($"warning: {e.Message} — falling back to the CPU (device: cpu, SIMD)");
                    return Cpu;
                }
            default:
                throw new ArgumentException($"--device must be one of auto, cpu, cuda, ilgpu-cpu; got '{spec}'.", nameof(spec));
        }
    }
}
