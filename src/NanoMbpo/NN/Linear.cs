// nn.Linear: y = x · Wᵀ + b with parameters "weight" (out, in) and "bias" (out) under the module's
// prefix, initialised as torch does (U(±1/√in)) unless another initialiser is applied after.
// Gradient check: catalog "nn_linear"; tests: tests/NanoMbpo.Tests/NN/ModuleTests.cs.
namespace NanoMbpo.NN;

public sealed class Linear : Module
{
    public Tensor Weight { get; }   // (out, in)
    public Tensor? Bias { get; }    // (out)
    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <param name="rng">Draws torch's default init; null leaves zeros (for weights loaded from a checkpoint).</param>
    public Linear(ParameterStore store, string prefix, int inFeatures, int outFeatures, Rng? rng, bool bias = true)
        : base(store, prefix)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"Linear '{prefix}': features must be positive, got in={inFeatures}, out={outFeatures}.");
        InFeatures = inFeatures; OutFeatures = outFeatures;
        Weight = Param("weight", outFeatures, inFeatures);
        if (bias) Bias = Param("bias", outFeatures);
        if (rng is not null) Init.TorchLinear(Weight, Bias, rng);
    }

    /// <summary>x (..., in) → (..., out).</summary>
    public Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);

    [GradCases(Op = "nn_linear", Cpu = nameof(Forward), Tolerance = ToleranceClass.Accumulating,
        Composite = "F.Linear on the device")]
    static IEnumerable<GradCase> Cases()
    {
        yield return GradCase.Sized("nn_linear", [[3, 4], [5, 4]], (rng, dt, z) =>
        {
            var ps = new ParameterStore(dt);
            var m = new Linear(ps, "fc.", z[4], z[5], rng);
            var x = Tensor.Uniform(rng, z.Shape(3, 4), -1, 1, dt).RequireGrad();
            return new GradProblem([x, .. m.Parameters()], () => m.Forward(x));
        }, "x(3,4) W(5,4) b(5)");
    }
}
