// Attention forward on CUDA, B=8 NH=12 HS=64, no mask: the fused online-softmax kernel against the
// unfused path (batched SGEMM q kᵀ, softmax, SGEMM p v; baseline) that writes the T x T scores.
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*GpuAttentionBench*'` (skips without CUDA).
using BenchmarkDotNet.Attributes;
using ILGPU;
using ILGPU.Runtime;
using NanoMbpo.Kernels;

namespace NanoMbpo.Bench.Gpu;

[Config(typeof(CudaOnlyConfig))]
public class GpuAttentionBench : CudaBenchBase
{
    const int B = 8, NH = 12, HS = 64;
    [Params(128, 256, 512)] public int T;
    MemoryBuffer1D<float, Stride1D.Dense> q = null!, k = null!, v = null!, o = null!, lse = null!, scores = null!, probs = null!;
    AttentionArgs g;

    [GlobalSetup]
    public void Setup()
    {
        OpenCuda();
        long n = (long)B * NH * T * HS;
        q = Random(n, 7); k = Random(n, 8); v = Random(n, 9); o = Acc.Allocate1D<float>(n);
        lse = Acc.Allocate1D<float>((long)B * NH * T);
        scores = Acc.Allocate1D<float>((long)B * NH * T * T); probs = Acc.Allocate1D<float>((long)B * NH * T * T);
        g = AttentionArgs.Contiguous(B, NH, T, HS);
        Acc.Synchronize();
    }

    [Benchmark(Baseline = true)]
    public void Unfused()
    {
        Kl.Sgemm(scores.View, q.View, k.View, T, T, HS, transB: true, alpha: g.Scale, batch: B * NH,
            strideA: (long)T * HS, strideB: (long)T * HS, strideC: (long)T * T);
        Kl.Softmax(probs.View, scores.View, B * NH * T, T);
        Kl.Sgemm(o.View, probs.View, v.View, T, HS, T, batch: B * NH,
            strideA: (long)T * T, strideB: (long)T * HS, strideC: (long)T * HS);
        Acc.Synchronize();
    }

    [Benchmark]
    public void Fused() { Kl.AttentionForward(o.View, lse.View, q.View, k.View, v.View, default, g); Acc.Synchronize(); }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var buf in new[] { q, k, v, o, lse, scores, probs }) buf?.Dispose();
        CloseCuda();
    }
}
