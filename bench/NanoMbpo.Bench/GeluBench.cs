// GELU (erf form) on BERT feed-forward shapes: F.Gelu's float32 SIMD path against a naive scalar
// loop over the same rational erf (so the ratio is the SIMD/loop gain, not a different formula).
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*GeluBench*' --job short`.
// Results: bench/RESULTS-ops.md.
using BenchmarkDotNet.Attributes;
using NanoMbpo;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bench;

[MemoryDiagnoser, MinColumn]
public class GeluBench
{
    [Params(768, 3072)] public int C;
    const int Rows = 256;
    Tensor x = null!, g = null!;
    float[] y = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1);
        x = Tensor.Randn(rng, [Rows, C]);   // (B·T, C)
        g = Tensor.Randn(rng, [Rows, C]);
        y = new float[Rows * C];
    }

    [Benchmark(Baseline = true)]
    public float NaiveForward()
    {
        var xs = x.F32;
        for (int i = 0; i < xs.Length; i++) y[i] = 0.5f * xs[i] * (1f + Erf.Single(xs[i] * 0.70710678f));
        return y[0];
    }

    [Benchmark]
    public Tensor Forward() => F.Gelu(x);

    [Benchmark]
    public Tensor ForwardBackward()
    {
        var xg = x.Detach().RequireGrad();
        F.Gelu(xg).Backward(g);
        return xg.Grad!;
    }
}
