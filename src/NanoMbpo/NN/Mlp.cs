// Mlp: Linear layers of the given sizes with an activation between them and an optional one after
// the last. Parameter names match torch's nn.Sequential(Linear, Act, Linear, Act, Linear): the i-th
// Linear is at index 2i ("0.weight", "2.weight", "4.weight"), so torch state dicts load by key.
// ReLU layers run as the fused F.LinearRelu. Gradient checks: catalog "nn_mlp_*"; benchmark: `nanombpo bench mlp`, bench/ MlpStepBench.
namespace NanoMbpo.NN;

public sealed class Mlp : Module
{
    public IReadOnlyList<Linear> Layers { get; }
    public Activation Hidden { get; }
    public Activation Output { get; }
    public int InFeatures => Layers[0].InFeatures;
    public int OutFeatures => Layers[^1].OutFeatures;

    /// <param name="sizes">in, hidden..., out (at least two entries).</param>
    /// <param name="rng">torch's default Linear init; null leaves zeros.</param>
    public Mlp(ParameterStore store, string prefix, int[] sizes, Activation hidden, Rng? rng, Activation output = Activation.Identity)
        : base(store, prefix)
    {
        if (sizes is null || sizes.Length < 2)
            throw new ArgumentException($"Mlp '{prefix}': sizes must list at least input and output sizes, got [{string.Join(",", sizes ?? [])}].", nameof(sizes));
        Hidden = hidden; Output = output;
        var layers = new List<Linear>();
        for (int i = 0; i + 1 < sizes.Length; i++)
            layers.Add(Child(new Linear(store, Sub((2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture)), sizes[i], sizes[i + 1], rng)));
        Layers = layers;
    }

    /// <summary>x (..., in) → (..., out).</summary>
    public Tensor Forward(Tensor x)
    {
        for (int i = 0; i < Layers.Count; i++)
        {
            var act = i + 1 < Layers.Count ? Hidden : Output;
            // The fused op is bit-identical to Relu(Linear(...)) and saves two passes per layer.
            if (act == Activation.Relu) { x = F.LinearRelu(x, Layers[i].Weight, Layers[i].Bias); continue; }
            x = Activations.Apply(act, Layers[i].Forward(x));
        }
        return x;
    }

    [GradCases(Op = "nn_mlp", Cpu = nameof(Forward), Tolerance = ToleranceClass.Accumulating,
        Composite = "linear, linear_relu and activations on the device")]
    static IEnumerable<GradCase> Cases()
    {
        foreach (var (act, outAct) in new[] { (Activation.Relu, Activation.Identity), (Activation.Tanh, Activation.Tanh),
                                               (Activation.Gelu, Activation.Identity), (Activation.Silu, Activation.Sigmoid) })
        {
            string name = $"nn_mlp_{act.ToString().ToLowerInvariant()}" + (outAct == Activation.Identity ? "" : "_out_" + outAct.ToString().ToLowerInvariant());
            yield return GradCase.Sized(name, [[3, 4], [6, 4], [5, 6]], (rng, dt, z) =>
            {
                var ps = new ParameterStore(dt);
                var m = new Mlp(ps, "", z.Shape(4, 6, 5, 2), act, rng, outAct);
                var x = Tensor.Uniform(rng, z.Shape(3, 4), -1, 1, dt).RequireGrad();
                return new GradProblem([x, .. m.Parameters()], () => m.Forward(x));
            }, "x(3,4) 4-6-5-2");
        }
    }
}
