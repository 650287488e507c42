// Softmax over the last axis on attention-score shapes (rows of 128 and 512, 393,216 elements in
// all): F.Softmax (TensorPrimitives rows) against a naive scalar three-pass loop with MathF.Exp.
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*SoftmaxBench*' --job short`.
// Results: bench/RESULTS-ops.md.
using BenchmarkDotNet.Attributes;
using NanoMbpo;

namespace NanoMbpo.Bench;

[MemoryDiagnoser, MinColumn]
public class SoftmaxBench
{
    [Params(128, 512)] public int T;
    const int Elements = 393_216;
    int rows;
    Tensor x = null!, g = null!;
    float[] y = null!;

    [GlobalSetup]
    public void Setup()
    {
        rows = Elements / T;
        var rng = new Rng(2);
        x = Tensor.Randn(rng, [rows, T], 3.0);   // (B·NH·T, S) scores
        g = Tensor.Randn(rng, [rows, T]);
        y = new float[Elements];
    }

    [Benchmark(Baseline = true)]
    public float NaiveForward()
    {
        var xs = x.F32;
        for (int r = 0; r < rows; r++)
        {
            int o = r * T;
            float m = float.NegativeInfinity;
            for (int j = 0; j < T; j++) m = MathF.Max(m, xs[o + j]);
            float s = 0;
            for (int j = 0; j < T; j++) { float e = MathF.Exp(xs[o + j] - m); y[o + j] = e; s += e; }
            float inv = 1f / s;
            for (int j = 0; j < T; j++) y[o + j] *= inv;
        }
        return y[0];
    }

    [Benchmark]
    public Tensor Forward() => F.Softmax(x);

    [Benchmark]
    public Tensor ForwardBackward()
    {
        var xg = x.Detach().RequireGrad();
        F.Softmax(xg).Backward(g);
        return xg.Grad!;
    }
}
