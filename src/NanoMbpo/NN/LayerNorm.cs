// nn.LayerNorm over the last axis: parameters "weight" (C) = 1 and "bias" (C) = 0, eps as given
// (torch default 1e-5, BERT 1e-12). Gradient check: catalog "nn_layernorm".
namespace NanoMbpo.NN;

public sealed class LayerNorm : Module
{
    public Tensor Weight { get; }   // (C)
    public Tensor Bias { get; }     // (C)
    public double Eps { get; }

    public LayerNorm(ParameterStore store, string prefix, int c, double eps = 1e-5) : base(store, prefix)
    {
        if (c <= 0) throw new ArgumentException($"LayerNorm '{prefix}': size must be positive, got {c}.", nameof(c));
        if (!(eps > 0)) throw new ArgumentException($"LayerNorm '{prefix}': eps must be positive, got {eps}.", nameof(eps));
        Eps = eps;
        Weight = Param("weight", c);
        Bias = Param("bias", c);
        Init.Ones(Weight);
    }

    /// <summary>x (..., C) → (..., C).</summary>
    public Tensor Forward(Tensor x) => F.LayerNorm(x, Weight, Bias, Eps);

    [GradCases(Op = "nn_layernorm", Cpu = nameof(Forward), Tolerance = ToleranceClass.Accumulating,
        Composite = "F.LayerNorm on the device")]
    static IEnumerable<GradCase> Cases()
    {
        yield return GradCase.Sized("nn_layernorm", [[2, 3, 4]], (rng, dt, z) =>
        {
            var ps = new ParameterStore(dt);
            var m = new LayerNorm(ps, "ln.", z[4]);
            // Perturb the affine parameters so their gradients are not trivially symmetric.
            Init.Uniform(m.Weight, rng, 0.5, 1.5); Init.Uniform(m.Bias, rng, -0.5, 0.5);
            var x = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
            return new GradProblem([x, .. m.Parameters()], () => m.Forward(x));
        }, "x(2,3,4) w(4) b(4)");
    }
}
