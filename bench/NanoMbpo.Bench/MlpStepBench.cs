// MLP 64-256-256-16 (ReLU) training step at batch 256 — forward, MSE, backward, Adam — through the
// engine (autograd, SGEMM, SIMD Adam) against a naive C# baseline (plain loops, no autograd, same
// math). Run: dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*MlpStep*'
// Quick console figure: `nanombpo bench mlp --threads 2` (PyTorch CPU: 558 steps/s here).
using BenchmarkDotNet.Attributes;
using NanoMbpo.Cpu;
using NanoMbpo.NN;

namespace NanoMbpo.Bench;

[MemoryDiagnoser]
public class MlpStepBench
{
    MlpTrainStep engine = null!, engineNoReuse = null!, engineSplit = null!;
    NaiveMlp naive = null!;

    [Params(1, 2)] public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CpuThreads.Count = Threads;
        engine = new MlpTrainStep();
        engineNoReuse = new MlpTrainStep(reuseBuffers: false);
        engineSplit = new MlpTrainStep();
        naive = new NaiveMlp([64, 256, 256, 16], 256, seed: 1);
    }

    [Benchmark(Baseline = true)]
    public float Naive() => naive.Step();

    [Benchmark]
    public float Engine() => engine.Step();

    /// <summary>The same step with the ReLU-mask pass split over the threads (as before session 3) instead
    /// of kept on the caller: the A/B behind F.MaskSerialElements.</summary>
    [Benchmark]
    public float EngineSplitMask()
    {
        int saved = F.MaskSerialElements;
        F.MaskSerialElements = 0;
        try { return engineSplit.Step(); }
        finally { F.MaskSerialElements = saved; }
    }

    /// <summary>The same step allocating fresh activation buffers (no TensorArena): the cost of GC churn.</summary>
    [Benchmark]
    public float EngineNoReuse() => engineNoReuse.Step();
}
