// The discrete-SAC update workload of `nanombpo bench sac` and bench/ SacUpdateBench: a 64-dim
// state, 16 actions, twin 256×256 critics with targets, a 256×256 actor and the temperature, batch
// 256 from a 100k replay buffer filled with seeded random transitions (a synthetic environment that
// only supplies the shapes). One update = sample, α step, critic target and loss, critic step, actor
// loss and step, Polyak — exactly SacDiscrete.Update. bench/sac_anchor.py runs the same update in
// PyTorch. Tests: tests/NanoMbpo.Rl.Tests/LearningTests.cs (the workload runs, its loss is finite and falls).
using NanoMbpo.Rl.Envs;

namespace NanoMbpo.Rl;

public sealed class SacBench
{
    public const int ObsDim = 64, Actions = 16, Batch = 256, BufferSize = 100_000;
    public SacDiscrete Agent { get; }

    public SacBench(ulong seed = 1, int bufferSize = BufferSize)
    {
        Agent = new SacDiscrete(new ShapeEnv(), seed, new SacDiscreteOptions { BufferSize = bufferSize, BatchSize = Batch, Hidden = [256, 256] });
        var rng = new Rng(seed);
        var s = new float[ObsDim]; var s2 = new float[ObsDim];
        for (int i = 0; i < bufferSize; i++)
        {
            for (int j = 0; j < ObsDim; j++) { s[j] = (float)rng.Normal(); s2[j] = (float)rng.Normal(); }
            Agent.Buffer.Add(s, [rng.NextInt(Actions)], rng.Normal(), s2, rng.NextDouble() < 0.01);
        }
    }

    /// <summary>One full discrete-SAC update; returns the critic loss.</summary>
    public double Step()
    {
        Agent.Update(Agent.Buffer);
        return Agent.Metrics["critic_loss"];
    }

    /// <summary>An environment with the benchmark's shapes; it is never stepped.</summary>
    sealed class ShapeEnv : IEnv
    {
        public string Name => "bench-64x16";
        public string Key => "bench";
        public int ObsDim => SacBench.ObsDim;
        public int NumActions => Actions;
        public int ActionDim => 1;
        public float ActionLow => 0;
        public float ActionHigh => Actions - 1;
        public int MaxEpisodeSteps => 1;
        public void Reset(Rng rng, Span<float> obs) => obs.Clear();
        public StepResult Step(ReadOnlySpan<float> action, Span<float> obs) => throw new NotSupportedException("the benchmark environment is never stepped.");
        public double[] GetState() => [];
        public void SetState(double[] state) { }
    }
}
