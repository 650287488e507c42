// What MBPO needs from a SAC variant (continuous Sac or SacDiscrete) to use it as its policy
// optimiser: gradient steps on batches it supplies, batched policy sampling for model rollouts, and
// the networks (through the agent) for checkpoints. Tested through tests/NanoMbpo.Rl.Tests/ModelTests.cs.
namespace NanoMbpo.Rl;

public interface ISacLearner
{
    /// <summary>One gradient step on the batch that <paramref name="fill"/> writes.</summary>
    void Update(Action<Batch> fill);
    /// <summary>Policy samples for n observations (row-major), written to actions (n, actDim).</summary>
    void SampleActions(ReadOnlySpan<float> obs, int n, Span<float> actions);
    /// <summary>The learner's batch-sampling stream (MBPO's mixed batches draw from it).</summary>
    Rng SampleRng { get; }
    Agent AsAgent { get; }
}
