// TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual and a
// LayerNorm, post-LN (BERT, torch's default) or pre-LN (NormFirst). Names follow BERT
// ("attention.self.query", "attention.output.LayerNorm", "intermediate.dense", "output.dense",
// "output.LayerNorm") or torch ("self_attn.in_proj_weight", "linear1", "linear2", "norm1", "norm2").
// Dropout: after the attention output and after the FFN output (both namings) and, with torch
// naming, after the FFN activation, exactly where torch and Hugging Face place them.
// Gradient checks: catalog "nn_encoder_layer_*"; fixture parity: tests/fixtures (torch, gelu, post-LN).
namespace NanoMbpo.NN;

public sealed record TransformerOptions(int DModel, int NumHeads, int DimFeedforward)
{
    public double Dropout { get; init; } = 0.1;
    public Activation Activation { get; init; } = Activation.Gelu;
    /// <summary>Pre-LN (x + f(norm(x))) instead of post-LN (norm(x + f(x))).</summary>
    public bool NormFirst { get; init; }
    /// <summary>torch default 1e-5; BERT uses 1e-12.</summary>
    public double LayerNormEps { get; init; } = 1e-5;
    public TransformerNaming Naming { get; init; } = TransformerNaming.Torch;

    /// <summary>BERT-base hyper-parameters with BERT naming (gelu, post-LN, eps 1e-12).</summary>
    public static TransformerOptions BertBase => new(768, 12, 3072) { LayerNormEps = 1e-12, Naming = TransformerNaming.Bert };
}

public sealed class TransformerEncoderLayer : Module
{
    public TransformerOptions Options { get; }
    public MultiHeadAttention Attention { get; }
    public Linear Linear1 { get; }   // C → FF
    public Linear Linear2 { get; }   // FF → C
    public LayerNorm Norm1 { get; }  // around attention
    public LayerNorm Norm2 { get; }  // around the FFN
    public Dropout Dropout1 { get; }
    public Dropout Dropout2 { get; }
    public Dropout? ActivationDropout { get; }

    /// <param name="rng">Initial weights (BERT naming: N(0, 0.02²) weights, zero biases; torch naming:
    /// torch's defaults) and the seeds of the dropout streams.</param>
    public TransformerEncoderLayer(ParameterStore store, string prefix, TransformerOptions o, Rng rng) : base(store, prefix)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(rng);
        Options = o;
        int c = o.DModel, ff = o.DimFeedforward;
        if (ff <= 0) throw new ArgumentException($"TransformerEncoderLayer '{prefix}': DimFeedforward must be positive, got {ff}.");
        if (o.Naming == TransformerNaming.Bert)
        {
            Attention = Child(new MultiHeadAttention(store, Sub("attention"), c, o.NumHeads, o.Naming, rng));
            Norm1 = Child(new LayerNorm(store, Sub("attention.output.LayerNorm"), c, o.LayerNormEps));
            Linear1 = Child(new Linear(store, Sub("intermediate.dense"), c, ff, null));
            Linear2 = Child(new Linear(store, Sub("output.dense"), ff, c, null));
            Norm2 = Child(new LayerNorm(store, Sub("output.LayerNorm"), c, o.LayerNormEps));
            Init.Bert(Linear1.Weight, rng);
            Init.Bert(Linear2.Weight, rng);
        }
        else
        {
            Attention = Child(new MultiHeadAttention(store, Sub("self_attn"), c, o.NumHeads, o.Naming, rng));
            Linear1 = Child(new Linear(store, Sub("linear1"), c, ff, rng));
            Linear2 = Child(new Linear(store, Sub("linear2"), ff, c, rng));
            Norm1 = Child(new LayerNorm(store, Sub("norm1"), c, o.LayerNormEps));
            Norm2 = Child(new LayerNorm(store, Sub("norm2"), c, o.LayerNormEps));
        }
        // Each dropout gets its own stream drawn from rng's state, so layers built from one rng differ.
        Dropout1 = Child(new Dropout(store, o.Dropout, new Rng(rng.NextUInt64())));
        Dropout2 = Child(new Dropout(store, o.Dropout, new Rng(rng.NextUInt64())));
        if (o.Naming == TransformerNaming.Torch)
            ActivationDropout = Child(new Dropout(store, o.Dropout, new Rng(rng.NextUInt64())));
    }

    /// <summary>x (B,T,C), keyPaddingMask I32 (B,T) nonzero = padding → (B,T,C).</summary>
    public Tensor Forward(Tensor x, Tensor? keyPaddingMask = null, bool causal = false)
    {
        if (Options.NormFirst)
        {
            x = F.Add(x, Dropout1.Forward(Attention.Forward(Norm1.Forward(x), keyPaddingMask, causal)));
            return F.Add(x, Dropout2.Forward(FeedForward(Norm2.Forward(x))));
        }
        x = Norm1.Forward(F.Add(x, Dropout1.Forward(Attention.Forward(x, keyPaddingMask, causal))));
        return Norm2.Forward(F.Add(x, Dropout2.Forward(FeedForward(x))));
    }

    Tensor FeedForward(Tensor x)
    {
        var h = Activations.Apply(Options.Activation, Linear1.Forward(x));   // (B,T,FF)
        if (ActivationDropout is not null) h = ActivationDropout.Forward(h);
        return Linear2.Forward(h);
    }

    /// <summary>Gradient-check helper: randomises every parameter (away from init symmetries).</summary>
    internal static void Randomise(ParameterStore ps, Rng rng)
    {
        foreach (var p in ps.Parameters)
        {
            if (p.Name!.Contains("norm", StringComparison.OrdinalIgnoreCase) && p.Name.EndsWith(".weight", StringComparison.Ordinal))
                Init.Uniform(p, rng, 0.7, 1.3);
            else Init.Uniform(p, rng, -0.5, 0.5);
        }
    }

    [GradCases(Op = "nn_encoder_layer", Cpu = nameof(Forward), Tolerance = ToleranceClass.Accumulating,
        Composite = "attention, linear, activations, dropout and layer_norm on the device")]
    static IEnumerable<GradCase> Cases()
    {
        var variants = new (string Name, TransformerOptions O)[]
        {
            ("nn_encoder_layer_bert_postln_gelu", new(4, 2, 6) { Dropout = 0, Naming = TransformerNaming.Bert, LayerNormEps = 1e-12 }),
            ("nn_encoder_layer_torch_preln_relu", new(4, 2, 6) { Dropout = 0, NormFirst = true, Activation = Activation.Relu }),
            ("nn_encoder_layer_torch_postln_dropout", new(4, 2, 6) { Dropout = 0.2 }),
        };
        foreach (var (name, o) in variants)
        {
            yield return GradCase.Sized(name, [[2, 3, 4]], (rng, dt, z) =>
            {
                var ps = new ParameterStore(dt);
                var m = new TransformerEncoderLayer(ps, "layer.", o with { DModel = z[o.DModel], DimFeedforward = z[o.DimFeedforward] }, rng);
                Randomise(ps, rng);
                var x = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
                var mask = MultiHeadAttention.PaddingMaskForCase(z[2], z[3]);
                return new GradProblem([x, .. m.Parameters()], () =>
                {
                    m.ReseedDropout(5);   // the same masks on every forward pass
                    return m.Forward(x, mask);
                });
            }, "x(2,3,4) NH=2 FF=6 mask(2,3)") with
            {
                NoParity = o.Dropout > 0 ? "device dropout draws its masks from the counter-based random kernel, not the CPU rng stream" : null,
            };
        }
    }
}
