// SGEMM on CUDA, square N³, row-major: our fp32 and TF32 kernels against cuBLAS fp32 (baseline) and
// cuBLAS TF32 on the same buffers. Each call launches and synchronises; TFLOP/s = 2N³ / time.
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*GpuGemmBench*'` (skips without CUDA).
using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;

namespace NanoMbpo.Bench.Gpu;

[Config(typeof(CudaOnlyConfig))]
public class GpuGemmBench : CudaBenchBase
{
    [Params(1024, 2048, 4096)] public int N;
    MemoryBuffer1D<float, Stride1D.Dense> a = null!, b = null!, c = null!;

    [GlobalSetup]
    public void Setup()
    {
        OpenCuda();
        a = Random((long)N * N, 1); b = Random((long)N * N, 2); c = Acc.Allocate1D<float>((long)N * N);
        Acc.Synchronize();
    }

    [Benchmark(Baseline = true)]
    public void CuBlasFp32() { Blas.AllowTf32(false); Blas.Sgemm(c.View, a.View, b.View, N, N, N); Acc.Synchronize(); }

    [Benchmark]
    public void CuBlasTf32() { Blas.AllowTf32(true); Blas.Sgemm(c.View, a.View, b.View, N, N, N); Acc.Synchronize(); }

    [Benchmark]
    public void OursFp32() { Kl.Sgemm(c.View, a.View, b.View, N, N, N); Acc.Synchronize(); }

    [Benchmark]
    public void OursTf32() { Kl.SgemmTf32(c.View, a.View, b.View, N, N, N); Acc.Synchronize(); }

    [GlobalCleanup]
    public void Cleanup() { a?.Dispose(); b?.Dispose(); c?.Dispose(); CloseCuda(); }
}
