// The encoder workload shared by `nanombpo bench encoder` and bench/ EncoderBench: a BERT-named,
// post-LN TransformerEncoder (GELU, LayerNorm eps 1e-12, no dropout; random N(0, 0.02²) weights, as
// a pretrained BERT's encoder stack minus embeddings) over a fixed (B,T,C) input. Inference is one
// forward under no-grad; a training step is forward, MSE against a fixed target, backward and AdamW.
// Both run inside a TensorArena (unless reuseBuffers is false), so after the first call they allocate
// no tensor memory: the figure `bench encoder` reports as managed bytes per call.
// Tests: tests/NanoMbpo.Tests/NN/EncoderStepTests.cs.
using NanoMbpo.Optim;

namespace NanoMbpo.NN;

public sealed class EncoderStep
{
    public ParameterStore Store { get; }
    public TransformerEncoder Encoder { get; }
    public AdamW Optimizer { get; }
    readonly Tensor x;        // (B,T,C)
    readonly Tensor target;   // (B,T,C)
    readonly Tensor? mask;    // (B,T) I32, nonzero = padding
    readonly TensorArena? arena;

    public EncoderStep(int layers, int hidden, int heads, int ffn, int batch, int seq, ulong seed = 1, bool reuseBuffers = true, bool padding = false)
    {
        if (layers < 1 || hidden < 1 || heads < 1 || ffn < 1 || batch < 1 || seq < 1)
            throw new ArgumentOutOfRangeException(nameof(layers), "layers, hidden, heads, ffn, batch and seq must all be >= 1.");
        if (hidden % heads != 0) throw new ArgumentException($"hidden {hidden} must be a multiple of heads {heads}.", nameof(heads));
        var rng = new Rng(seed);
        Store = new ParameterStore(DType.F32);
        var o = new TransformerOptions(hidden, heads, ffn) { Dropout = 0, LayerNormEps = 1e-12, Naming = TransformerNaming.Bert };
        Encoder = new TransformerEncoder(Store, "encoder.", o, layers, rng);
        Optimizer = new AdamW(Store, 1e-4);
        x = Tensor.Randn(rng, [batch, seq, hidden]);
        target = Tensor.Randn(rng, [batch, seq, hidden]);
        if (padding)
        {
            // The last quarter of every other sequence is padding, as a bucketed batch of dialog turns.
            var m = new int[batch * seq];
            for (int b = 1; b < batch; b += 2) for (int t = seq - seq / 4; t < seq; t++) m[b * seq + t] = 1;
            mask = Tensor.FromArray(m, batch, seq);
        }
        arena = reuseBuffers ? new TensorArena() : null;
    }

    /// <summary>Forward under no-grad; returns the sum of the last hidden state's first row (read
    /// inside the arena scope, so the caller can check it).</summary>
    public double Infer()
    {
        using var _ = Autograd.NoGrad();
        using var scope = arena?.Use();
        var h = Encoder.Forward(x, mask);   // (B,T,C)
        double s = 0;
        var row = h.F32[..h.Dim(-1)];
        foreach (var v in row) s += v;
        return s;
    }

    /// <summary>One AdamW training step; returns the loss before the update.</summary>
    public float TrainStep()
    {
        using var scope = arena?.Use();
        try
        {
            var loss = F.MseLoss(Encoder.Forward(x, mask), target);
            loss.Backward();
            Optimizer.Step(zeroGrad: true);
            return loss.F32[0];
        }
        catch { Store.ZeroGrad(); throw; }
    }
}
