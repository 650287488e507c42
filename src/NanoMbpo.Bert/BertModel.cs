// BertModel: Hugging Face's BertModel on the engine — embeddings (word + position + token type,
// LayerNorm), N post-LN encoder layers (TransformerEncoderLayer with BERT naming, GELU erf) and an
// optional pooler (dense + tanh over [CLS]). Parameter names are the HF state-dict keys exactly
// ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", "pooler.dense.weight").
// Forward works with autograd (fine-tuning) and under Autograd.NoGrad() inside a TensorArena (inference).
// Tests: tests/NanoMbpo.Bert.Tests/BertParityTests.cs (torch per-layer fixture, ONNX Runtime, published cosines).
using NanoMbpo.NN;

namespace NanoMbpo.Bert;

public sealed class BertModel : Module
{
    public BertConfig Config { get; }
    public Embedding WordEmbeddings { get; }
    public Embedding PositionEmbeddings { get; }
    public Embedding TokenTypeEmbeddings { get; }
    public LayerNorm EmbeddingsNorm { get; }
    public TransformerEncoder Encoder { get; }
    public Linear? Pooler { get; }

    /// <param name="rng">BERT init (N(0, 0.02²)) for random models; weights loaded from a checkpoint overwrite it.</param>
    public BertModel(ParameterStore store, BertConfig config, bool pooler, Rng rng) : base(store, "")
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("BertModel config");
        Config = config;
        int h = config.HiddenSize;
        WordEmbeddings = Child(new Embedding(store, "embeddings.word_embeddings.", config.VocabSize, h, rng, config.InitializerRange));
        PositionEmbeddings = Child(new Embedding(store, "embeddings.position_embeddings.", config.MaxPositionEmbeddings, h, rng, config.InitializerRange));
        TokenTypeEmbeddings = Child(new Embedding(store, "embeddings.token_type_embeddings.", config.TypeVocabSize, h, rng, config.InitializerRange));
        EmbeddingsNorm = Child(new LayerNorm(store, "embeddings.LayerNorm.", h, config.LayerNormEps));
        var o = new TransformerOptions(h, config.NumAttentionHeads, config.IntermediateSize)
        {
            Dropout = config.HiddenDropoutProb, LayerNormEps = config.LayerNormEps, Naming = TransformerNaming.Bert, Activation = Activation.Gelu,
        };
        Encoder = Child(new TransformerEncoder(store, "encoder.", o, config.NumHiddenLayers, rng));
        if (pooler) Pooler = Child(new Linear(store, "pooler.dense.", h, h, rng));
        Eval();
    }

    /// <summary>Embedding output: inputIds I32 (B,T), tokenTypeIds I32 (B,T) or null (zeros) → (B,T,C).</summary>
    public Tensor Embed(Tensor inputIds, Tensor? tokenTypeIds)
    {
        int B = inputIds.Shape[0], T = inputIds.Shape[1];
        if (T > Config.MaxPositionEmbeddings)
            throw new ArgumentException($"BertModel: sequence length {T} exceeds max_position_embeddings {Config.MaxPositionEmbeddings}.");
        var positions = Tensor.Zeros([T], DType.I32);
        var p = positions.I32;
        for (int t = 0; t < T; t++) p[t] = t;
        if (tokenTypeIds is null) tokenTypeIds = Tensor.Zeros([B, T], DType.I32);
        var x = F.Add(F.Embedding(WordEmbeddings.Weight, inputIds), F.Embedding(TokenTypeEmbeddings.Weight, tokenTypeIds));   // (B,T,C)
        x = F.Add(x, F.Embedding(PositionEmbeddings.Weight, positions));   // + (T,C)
        return EmbeddingsNorm.Forward(x);
    }

    /// <summary>Last hidden state (B,T,C). paddingMask I32 (B,T): nonzero = padding (the inverse of HF's attention_mask).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? tokenTypeIds = null, Tensor? paddingMask = null)
    {
        var x = Embed(inputIds, tokenTypeIds);
        foreach (var layer in Encoder.Layers) x = layer.Forward(x, paddingMask);
        return x;
    }

    /// <summary>The embedding output and every layer's output (N+1 tensors of (B,T,C)), as HF's hidden_states.</summary>
    public List<Tensor> HiddenStates(Tensor inputIds, Tensor? tokenTypeIds = null, Tensor? paddingMask = null)
    {
        var all = new List<Tensor> { Embed(inputIds, tokenTypeIds) };
        foreach (var layer in Encoder.Layers) all.Add(layer.Forward(all[^1], paddingMask));
        return all;
    }

    /// <summary>pooler_output: tanh(dense(hidden[:, 0])) (B,C). Needs a checkpoint with a pooler.</summary>
    public Tensor Pool(Tensor hidden)
    {
        if (Pooler is null) throw new InvalidOperationException("BertModel: this checkpoint has no pooler (pooler.dense.*).");
        var cls = F.Reshape(F.Slice(hidden, 1, 0, 1), hidden.Shape[0], hidden.Shape[2]);   // (B,C)
        return F.Tanh(Pooler.Forward(cls));
    }
}
