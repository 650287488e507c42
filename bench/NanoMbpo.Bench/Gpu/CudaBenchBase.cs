// Shared base of the CUDA BenchmarkDotNet classes in this folder: opens the first CUDA accelerator
// and skips cleanly (a filter that drops every case, with one line saying why) when there is none.
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*Gpu*'`. The TFLOP/s and
// GB/s tables with cuBLAS and copy anchors come from `nanombpo bench gemm --device cuda` (GpuBench).
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NanoMbpo.Kernels;

namespace NanoMbpo.Bench.Gpu;

/// <summary>Keeps the CUDA benchmarks only where a CUDA device exists.</summary>
public sealed class CudaOnlyConfig : ManualConfig
{
    static readonly Lazy<bool> Present = new(() =>
    {
        bool has = KernelContext.HasCuda();
        if (!has) Console.WriteLine("GPU benchmarks skipped: no CUDA device or driver on this machine.");
        return has;
    });

    public CudaOnlyConfig() => AddFilter(new SimpleFilter(_ => Present.Value));
}

public abstract class CudaBenchBase
{
    Context? context;
    protected Accelerator Acc = null!;
    protected KernelLauncher Kl = null!;
    protected CuBlasAnchor Blas = null!;

    protected void OpenCuda()
    {
        context = Context.Create(b => b.Cuda().EnableAlgorithms());
        Acc = context.CreateCudaAccelerator(0);
        Kl = KernelLauncher.For(Acc);
        Blas = new CuBlasAnchor(Acc);
    }

    protected MemoryBuffer1D<float, Stride1D.Dense> Random(long n, ulong seed)
    {
        var buf = Acc.Allocate1D<float>(n);
        Kl.RandomUniform(buf.View, seed, 0, -1f, 1f);
        return buf;
    }

    protected void CloseCuda()
    {
        Blas?.Dispose();
        Acc?.Dispose();
        context?.Dispose();
    }
}
