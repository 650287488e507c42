// The discrete-SAC update (src/NanoMbpo.Rl/SacBench.cs: 64-dim state, 16 actions, twin 256×256
// critics and targets, actor, temperature, batch 256, 100k buffer) and one training step of the
// 7-member probabilistic-ensemble world model (batch 256 per member, Pendulum shapes), at 1 and 2
// threads. Run: dotnet run -c Release --project bench/NanoMbpo.Bench -- --filter '*SacUpdate*'.
// Console figures: `nanombpo bench sac --threads 2`, `nanombpo bench world-model --threads 2`;
// the PyTorch anchor is bench/sac_anchor.py; results in bench/RESULTS.md.
using BenchmarkDotNet.Attributes;
using NanoMbpo.Cpu;
using NanoMbpo.Rl;

namespace NanoMbpo.Bench;

[MemoryDiagnoser]
public class SacUpdateBench
{
    SacBench sac = null!;
    WorldModelStep wm = null!;

    [Params(1, 2)] public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CpuThreads.Count = Threads;
        sac = new SacBench();
        wm = new WorldModelStep();
    }

    [Benchmark]
    public double SacDiscreteUpdate() => sac.Step();

    [Benchmark]
    public double WorldModelTrainStep() => wm.Step();
}
