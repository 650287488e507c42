// Memory-bound row kernels on CUDA: softmax (R = B·NH·T rows of T, B=8, NH=12) and layer_norm
// (32768 x 768) against a device-to-device copy of the same bytes (baseline, the bandwidth anchor).
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*GpuRowBench*'` (skips without CUDA).
using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Bench.Gpu;

[Config(typeof(CudaOnlyConfig))]
public class GpuRowBench : CudaBenchBase
{
    [Params(128, 512)] public int T;
    const int LnRows = 32768, LnCols = 768;
    int rows;
    MemoryBuffer1D<float, Stride1D.Dense> x = null!, y = null!, lnX = null!, lnY = null!, w = null!, bias = null!, mean = null!, rstd = null!;

    [GlobalSetup]
    public void Setup()
    {
        OpenCuda();
        rows = 8 * 12 * T;
        x = Random((long)rows * T, 3); y = Acc.Allocate1D<float>((long)rows * T);
        lnX = Random((long)LnRows * LnCols, 4); lnY = Acc.Allocate1D<float>((long)LnRows * LnCols);
        w = Random(LnCols, 5); bias = Random(LnCols, 6);
        mean = Acc.Allocate1D<float>(LnRows); rstd = Acc.Allocate1D<float>(LnRows);
        Acc.Synchronize();
    }

    [Benchmark(Baseline = true)]
    public void CopySoftmaxBytes() { x.View.CopyTo(y.View); Acc.Synchronize(); }

    [Benchmark]
    public void Softmax() { Kl.Softmax(y.View, x.View, rows, T); Acc.Synchronize(); }

    [Benchmark]
    public void CopyLayerNormBytes() { lnX.View.CopyTo(lnY.View); Acc.Synchronize(); }

    [Benchmark]
    public void LayerNorm() { Kl.LayerNorm(lnY.View, mean.View, rstd.View, lnX.View, w.View, bias.View, LnRows, LnCols); Acc.Synchronize(); }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var buf in new[] { x, y, lnX, lnY, w, bias, mean, rstd }) buf?.Dispose();
        CloseCuda();
    }
}
