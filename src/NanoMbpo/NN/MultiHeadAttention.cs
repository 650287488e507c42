// MultiHeadAttention: q/k/v projections, a head split (B,T,C)→(B,NH,T,HS), the fused scaled
// dot-product attention op (key-padding mask, optional causal mask) and an output projection.
// Two state-dict layouts: BERT (separate "self.query/key/value" and "output.dense" under the
// prefix, e.g. "encoder.layer.0.attention.") and torch nn.MultiheadAttention (packed
// "in_proj_weight" (3C,C) / "in_proj_bias" (3C) and "out_proj"). The packed weight is used through
// zero-copy row views, so gradients land directly in the flat gradient buffer.
// No dropout on the attention probabilities (the fused op has none); the layers apply hidden dropout.
// Gradient checks: catalog "nn_mha_*".
namespace NanoMbpo.NN;

public sealed class MultiHeadAttention : Module
{
    public int DModel { get; }
    public int NumHeads { get; }
    public int HeadSize => DModel / NumHeads;
    public TransformerNaming Naming { get; }
    // Per-projection weight (C,C) and bias (C): module parameters (BERT) or views into in_proj (torch).
    readonly Tensor wq, wk, wv;
    readonly Tensor? bq, bk, bv;
    public Tensor? InProjWeight { get; }   // (3C, C), torch naming only
    public Tensor? InProjBias { get; }     // (3C), torch naming only
    public Linear OutProj { get; }

    /// <param name="rng">Initial weights: BERT naming N(0, 0.02²) with zero biases; torch naming as
    /// nn.MultiheadAttention (Xavier-uniform in_proj, zero biases). Null leaves zeros.</param>
    public MultiHeadAttention(ParameterStore store, string prefix, int dModel, int numHeads, TransformerNaming naming, Rng? rng, bool bias = true)
        : base(store, prefix)
    {
        if (dModel <= 0 || numHeads <= 0 || dModel % numHeads != 0)
            throw new ArgumentException($"MultiHeadAttention '{prefix}': dModel {dModel} must be a positive multiple of numHeads {numHeads}.");
        DModel = dModel; NumHeads = numHeads; Naming = naming;
        if (naming == TransformerNaming.Bert)
        {
            var q = Child(new Linear(store, Sub("self.query"), dModel, dModel, null, bias));
            var k = Child(new Linear(store, Sub("self.key"), dModel, dModel, null, bias));
            var v = Child(new Linear(store, Sub("self.value"), dModel, dModel, null, bias));
            OutProj = Child(new Linear(store, Sub("output.dense"), dModel, dModel, null, bias));
            (wq, wk, wv, bq, bk, bv) = (q.Weight, k.Weight, v.Weight, q.Bias, k.Bias, v.Bias);
            if (rng is not null)
                foreach (var w in new[] { wq, wk, wv, OutProj.Weight }) Init.Bert(w, rng);
        }
        else
        {
            InProjWeight = Param("in_proj_weight", 3 * dModel, dModel);
            if (bias) InProjBias = Param("in_proj_bias", 3 * dModel);
            OutProj = Child(new Linear(store, Sub("out_proj"), dModel, dModel, rng, bias));
            if (rng is not null)
            {
                Init.XavierUniform(InProjWeight, rng);
                if (OutProj.Bias is not null) Init.Zeros(OutProj.Bias);
            }
            int cc = dModel * dModel;
            wq = View(InProjWeight, 0, [dModel, dModel]);
            wk = View(InProjWeight, cc, [dModel, dModel]);
            wv = View(InProjWeight, 2 * cc, [dModel, dModel]);
            if (InProjBias is not null)
            {
                bq = View(InProjBias, 0, [dModel]);
                bk = View(InProjBias, dModel, [dModel]);
                bv = View(InProjBias, 2 * dModel, [dModel]);
            }
        }
    }

    /// <summary>A leaf view of part of a parameter whose gradient is the matching part of the
    /// parameter's gradient (both share the flat buffers).</summary>
    static Tensor View(Tensor p, int offset, int[] shape)
    {
        var g = p.Grad ?? throw new InvalidOperationException($"parameter {p} has no gradient buffer.");
        return new Tensor(p.Storage, p.Offset + offset, shape, p.DType)
        {
            Name = $"{p.Name}[{offset}:{offset + ShapeUtil.Numel(shape)}]",
            RequiresGrad = true,
            Grad = new Tensor(g.Storage, g.Offset + offset, shape, p.DType),
        };
    }

    /// <summary>Self-attention: x (B,T,C), keyPaddingMask I32 (B,T) nonzero = padded key → (B,T,C).</summary>
    public Tensor Forward(Tensor x, Tensor? keyPaddingMask = null, bool causal = false) => Forward(x, x, keyPaddingMask, causal);

    /// <summary>query (B,T,C) attends over keyValue (B,S,C); keyPaddingMask I32 (B,S) → (B,T,C).</summary>
    public Tensor Forward(Tensor query, Tensor keyValue, Tensor? keyPaddingMask, bool causal)
    {
        if (query.Rank != 3 || query.Shape[2] != DModel || keyValue.Rank != 3 || keyValue.Shape[2] != DModel || keyValue.Shape[0] != query.Shape[0])
            throw new ArgumentException($"MultiHeadAttention '{Prefix}': query{query.ShapeString} and keyValue{keyValue.ShapeString} must be (B,T,{DModel}) and (B,S,{DModel}).");
        // Heads stay column blocks of the (B,T,C) projections: strided GEMMs, no head copies.
        var merged = F.MultiHeadSdpa(F.Linear(query, wq, bq), F.Linear(keyValue, wk, bk), F.Linear(keyValue, wv, bv),
            NumHeads, keyPaddingMask, causal);   // (B,T,C)
        return OutProj.Forward(merged);
    }

    internal static Tensor PaddingMaskForCase(int b, int s)
    {
        // Batch 0 sees every key; batch b>0 has its last b keys padded.
        var m = new int[b * s];
        for (int i = 1; i < b; i++)
            for (int j = s - Math.Min(i, s - 1); j < s; j++) m[i * s + j] = 1;
        return Tensor.FromArray(m, b, s);
    }

    [GradCases(Op = "nn_mha", Cpu = nameof(Forward), Tolerance = ToleranceClass.Accumulating,
        Composite = "linear, reshape, permute and scaled_dot_product_attention on the device")]
    static IEnumerable<GradCase> Cases()
    {
        foreach (var naming in new[] { TransformerNaming.Bert, TransformerNaming.Torch })
        {
            string n = naming.ToString().ToLowerInvariant();
            yield return GradCase.Sized($"nn_mha_{n}_masked", [[2, 3, 4]], (rng, dt, z) =>
            {
                var ps = new ParameterStore(dt);
                var m = new MultiHeadAttention(ps, "attn.", z[4], 2, naming, rng);
                // Non-zero biases so their gradients are exercised away from a special point.
                foreach (var p in ps.Parameters) if (p.Rank == 1) Init.Uniform(p, rng, -0.3, 0.3);
                foreach (var p in ps.Parameters) if (p.Rank == 2) Init.Uniform(p, rng, -0.6, 0.6);
                var x = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
                var mask = PaddingMaskForCase(z[2], z[3]);
                return new GradProblem([x, .. m.Parameters()], () => m.Forward(x, mask));
            }, "x(2,3,4) NH=2 mask(2,3)");
        }
        yield return GradCase.Sized("nn_mha_cross_causal", [[2, 3, 4]], (rng, dt, z) =>
        {
            var ps = new ParameterStore(dt);
            var m = new MultiHeadAttention(ps, "attn.", z[4], 2, TransformerNaming.Torch, rng);
            foreach (var p in ps.Parameters) Init.Uniform(p, rng, -0.5, 0.5);
            var q = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
            var kv = Tensor.Uniform(rng, z.Shape(2, 3, 4), -1, 1, dt).RequireGrad();
            return new GradProblem([q, kv, .. m.Parameters()], () => m.Forward(q, kv, null, causal: true));
        }, "q(2,3,4) kv(2,3,4) NH=2");
    }
}
