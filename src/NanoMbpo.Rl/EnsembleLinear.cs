// EnsembleLinear: E independent linear layers applied to E batches in one strided-batched GEMM:
// x (E, B, in) · W (E, in, out) + b (E, 1, out) → (E, B, out). F.MatMul's batched form runs all
// members in one Gemm.Run call (forward and both backward products), so a 7-member ensemble costs
// one GEMM per layer, not seven. Each member is initialised like torch's nn.Linear (U(±1/√in)).
// Gradient check: tests/NanoMbpo.Rl.Tests/ModelTests.cs ("ensemble_linear", through GradCheck.Run).
using NanoMbpo.NN;

namespace NanoMbpo.Rl;

public sealed class EnsembleLinear : Module
{
    public Tensor Weight { get; }   // (E, in, out)
    public Tensor Bias { get; }     // (E, 1, out)
    public int Members { get; }
    public int InFeatures { get; }
    public int OutFeatures { get; }

    public EnsembleLinear(ParameterStore store, string prefix, int members, int inFeatures, int outFeatures, Rng? rng) : base(store, prefix)
    {
        if (members < 1 || inFeatures < 1 || outFeatures < 1)
            throw new ArgumentException($"EnsembleLinear '{prefix}': members and features must be positive, got {members}, {inFeatures}, {outFeatures}.");
        Members = members; InFeatures = inFeatures; OutFeatures = outFeatures;
        Weight = Param("weight", members, inFeatures, outFeatures);
        Bias = Param("bias", members, 1, outFeatures);
        if (rng is not null)
        {
            double bound = 1.0 / Math.Sqrt(inFeatures);
            Init.Uniform(Weight, rng, -bound, bound);
            Init.Uniform(Bias, rng, -bound, bound);
        }
    }

    /// <summary>x (E, B, in) → (E, B, out).</summary>
    public Tensor Forward(Tensor x) => F.MatMul(x, Weight) + Bias;

    /// <summary>Gradient-check cases (run by the RL tests through GradCheck.Run; the core catalog only scans its own assembly).</summary>
    public static IEnumerable<GradCase> Cases()
    {
        yield return new GradCase("ensemble_linear", "x(3,4,5) W(3,5,2) b(3,1,2)", (rng, dt) =>
        {
            var ps = new ParameterStore(dt);
            var m = new EnsembleLinear(ps, "l.", 3, 5, 2, rng);
            var x = Tensor.Uniform(rng, [3, 4, 5], -1, 1, dt).RequireGrad();
            return new GradProblem([x, .. m.Parameters()], () => m.Forward(x));
        });
    }
}
