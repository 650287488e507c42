// nn.Embedding: a lookup table "weight" (V, C); ids are I32 of any shape. Initialised N(0, std²)
// (torch: std 1; BERT: 0.02). Gradient check: catalog "nn_embedding" (ids are not checked).
namespace NanoMbpo.NN;

public sealed class Embedding : Module
{
    public Tensor Weight { get; }   // (V, C)
    public int NumEmbeddings { get; }
    public int Dim { get; }

    /// <param name="rng">Draws N(0, std²); null leaves zeros (weights loaded from a checkpoint).</param>
    public Embedding(ParameterStore store, string prefix, int numEmbeddings, int dim, Rng? rng, double std = 1.0) : base(store, prefix)
    {
        if (numEmbeddings <= 0 || dim <= 0)
            throw new ArgumentException($"Embedding '{prefix}': sizes must be positive, got V={numEmbeddings}, C={dim}.");
        NumEmbeddings = numEmbeddings; Dim = dim;
        Weight = Param("weight", numEmbeddings, dim);
        if (rng is not null) Init.Normal(Weight, rng, 0.0, std);
    }

    /// <summary>ids (...) I32 → (..., C).</summary>
    public Tensor Forward(Tensor ids) => F.Embedding(Weight, ids);

    [GradCases(Op = "nn_embedding", Cpu = nameof(Forward), Tolerance = ToleranceClass.Pointwise,
        Composite = "F.Embedding on the device")]
    static IEnumerable<GradCase> Cases()
    {
        yield return GradCase.Sized("nn_embedding", [[5, 4]], (rng, dt, z) =>
        {
            var ps = new ParameterStore(dt);
            var m = new Embedding(ps, "emb.", z[5], z[4], rng);
            // Repeated ids check that the backward scatter-adds rather than overwrites.
            var ids = z.Ints(rng, [0, 3, 3, 4, 1, 3], z[5], 2, 3);
            return new GradProblem([.. m.Parameters()], () => m.Forward(ids));
        }, "W(5,4) ids(2,3)");
    }
}
