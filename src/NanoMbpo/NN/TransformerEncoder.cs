// TransformerEncoder: a stack of TransformerEncoderLayer and an optional final LayerNorm (used with
// pre-LN stacks). Layer prefixes: "layer.{i}." with BERT naming (so prefix "encoder." gives
// "encoder.layer.0.attention.self.query.weight") and "layers.{i}." with torch naming (as
// nn.TransformerEncoder), final norm "norm.". Gradient check: catalog "nn_encoder_*".
namespace NanoMbpo.NN;

public sealed class TransformerEncoder : Module
{
    public IReadOnlyList<TransformerEncoderLayer> Layers { get; }
    public LayerNorm? FinalNorm { get; }

    public TransformerEncoder(ParameterStore store, string prefix, TransformerOptions o, int numLayers, Rng rng, bool finalNorm = false)
        : base(store, prefix)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (numLayers <= 0) throw new ArgumentException($"TransformerEncoder '{prefix}': numLayers must be positive, got {numLayers}.", nameof(numLayers));
        string stack = o.Naming == TransformerNaming.Bert ? "layer" : "layers";
        var layers = new List<TransformerEncoderLayer>();
        for (int i = 0; i < numLayers; i++)
            layers.Add(Child(new TransformerEncoderLayer(store, Sub($"{stack}.{i}"), o, rng)));
        Layers = layers;
        if (finalNorm) FinalNorm = Child(new LayerNorm(store, Sub("norm"), o.DModel, o.LayerNormEps));
    }

    /// <summary>x (B,T,C), keyPaddingMask I32 (B,T) nonzero = padding → (B,T,C).</summary>
    public Tensor Forward(Tensor x, Tensor? keyPaddingMask = null, bool causal = false)
    {
        foreach (var l in Layers) x = l.Forward(x, keyPaddingMask, causal);
        return FinalNorm is null ? x : FinalNorm.Forward(x);
    }

    [GradCases(Op = "nn_encoder", Cpu = nameof(Forward), Tolerance = ToleranceClass.Accumulating,
        Composite = "its layers and layer_norm on the device")]
    static IEnumerable<GradCase> Cases()
    {
        yield return GradCase.Sized("nn_encoder_preln_2layers_finalnorm", [[2, 3, 4]], (rng, dt, z) =>
        {
            var ps = new ParameterStore(dt);
            var o = new TransformerOptions(z[4], 2, z[6]) { Dropout = 0, NormFirst = true };
            var m = new TransformerEncoder(ps, "enc.", o, 2, rng, finalNorm: true);
            TransformerEncoderLayer.Randomise(ps, rng);
            var x = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
            var mask = MultiHeadAttention.PaddingMaskForCase(z[2], z[3]);
            return new GradProblem([x, .. m.Parameters()], () => m.Forward(x, mask));
        }, "x(2,3,4) 2 layers NH=2 FF=6");
    }
}
