// LayerNorm over C = 768 (BERT hidden size) for 256 and 2048 rows: F.LayerNorm (TensorPrimitives,
// two-pass variance) against a naive scalar two-pass loop.
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*LayerNormBench*' --job short`.
// Results: bench/RESULTS-ops.md.
using BenchmarkDotNet.Attributes;
using NanoMbpo;

namespace NanoMbpo.Bench;

[MemoryDiagnoser, MinColumn]
public class LayerNormBench
{
    [Params(256, 2048)] public int Rows;
    const int C = 768;
    Tensor x = null!, w = null!, b = null!, g = null!;
    float[] y = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(3);
        x = Tensor.Randn(rng, [Rows, C], 1.0, 0.5);   // (B·T, C)
        w = Tensor.Uniform(rng, [C], 0.5, 1.5);
        b = Tensor.Uniform(rng, [C], -0.5, 0.5);
        g = Tensor.Randn(rng, [Rows, C]);
        y = new float[Rows * C];
    }

    [Benchmark(Baseline = true)]
    public float NaiveForward()
    {
        var xs = x.F32; var ws = w.F32; var bs = b.F32;
        for (int r = 0; r < Rows; r++)
        {
            int o = r * C;
            float mean = 0;
            for (int c = 0; c < C; c++) mean += xs[o + c];
            mean /= C;
            float var = 0;
            for (int c = 0; c < C; c++) { float d = xs[o + c] - mean; var += d * d; }
            float rstd = 1f / MathF.Sqrt(var / C + 1e-12f);
            for (int c = 0; c < C; c++) y[o + c] = (xs[o + c] - mean) * rstd * ws[c] + bs[c];
        }
        return y[0];
    }

    [Benchmark]
    public Tensor Forward() => F.LayerNorm(x, w, b, 1e-12);

    [Benchmark]
    public Tensor ForwardBackward()
    {
        var xg = x.Detach().RequireGrad(); var wg = w.Detach().RequireGrad(); var bg = b.Detach().RequireGrad();
        F.LayerNorm(xg, wg, bg, 1e-12).Backward(g);
        return xg.Grad!;
    }
}
