// The BERT-shaped encoder (NN/EncoderStep.cs; MiniLM shape by default: 6 layers, C 384, NH 12, FF 1536,
// random weights) at 2 threads: inference under no-grad and a training step (forward, MSE, backward,
// AdamW), each with the step arena (the default) and without it (every op output freshly allocated,
// the engine before the allocation work). [MemoryDiagnoser] gives the bytes allocated per call.
// Run: dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*EncoderBench*'
// Quick console figure: `nanombpo bench encoder --threads 2 [--train]`. Results: bench/RESULTS.md.
using BenchmarkDotNet.Attributes;
using NanoMbpo.Cpu;
using NanoMbpo.NN;

namespace NanoMbpo.Bench;

[MemoryDiagnoser]
public class EncoderBench
{
    EncoderStep pooled = null!, fresh = null!;

    [Params("8x32", "64x16", "1x16")] public string Shape { get; set; } = "8x32";

    [GlobalSetup]
    public void Setup()
    {
        CpuThreads.DefaultCount = 2;
        var bt = Shape.Split('x').Select(int.Parse).ToArray();
        pooled = new EncoderStep(6, 384, 12, 1536, bt[0], bt[1]);
        fresh = new EncoderStep(6, 384, 12, 1536, bt[0], bt[1], reuseBuffers: false);
    }

    [Benchmark(Baseline = true)]
    public double InferNoReuse() => fresh.Infer();

    [Benchmark]
    public double Infer() => pooled.Infer();

    [Benchmark]
    public float TrainStepNoReuse() => fresh.TrainStep();

    [Benchmark]
    public float TrainStep() => pooled.TrainStep();
}
