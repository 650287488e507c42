// The fused MLP hidden layer F.LinearRelu (bias and ReLU in the SGEMM epilogue, one mask + bias-grad
// pass backward) against its composition F.Relu(F.Linear(x, W, b)), forward + backward, on the MLP
// benchmark's shapes (batch 256: 64→256 and 256→256) at 2 threads. The fused op is only worth keeping
// if this shows a gain (style rule 2); both give bit-identical results (tests/Ops/LinearReluTests.cs).
// Run: `dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*LinearReluBench*' --job short`.
// Results: bench/RESULTS-ops.md.
using BenchmarkDotNet.Attributes;
using NanoMbpo;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bench;

[MinColumn]
public class LinearReluBench
{
    [Params(64, 256)] public int In;
    const int Rows = 256, Out = 256;
    Tensor x = null!, w = null!, b = null!, g = null!;

    [GlobalSetup]
    public void Setup()
    {
        CpuThreads.Count = 2;
        var rng = new Rng(1);
        x = Tensor.Randn(rng, [Rows, In]);                      // (B, In)
        w = Tensor.Randn(rng, [Out, In]).RequireGrad();         // (Out, In)
        b = Tensor.Randn(rng, [Out]).RequireGrad();             // (Out)
        g = Tensor.Randn(rng, [Rows, Out]);                     // dy (B, Out)
    }

    [Benchmark(Baseline = true)]
    public Tensor Composed()
    {
        w.Grad?.F32.Clear(); b.Grad?.F32.Clear();   // reuse the gradient buffers (as a ParameterStore does)
        var xg = x.Detach().RequireGrad();
        F.Relu(F.Linear(xg, w, b)).Backward(g);
        return xg.Grad!;
    }

    [Benchmark]
    public Tensor Fused()
    {
        w.Grad?.F32.Clear(); b.Grad?.F32.Clear();   // reuse the gradient buffers (as a ParameterStore does)
        var xg = x.Detach().RequireGrad();
        F.LinearRelu(xg, w, b).Backward(g);
        return xg.Grad!;
    }
}
