// ITextEmbedder: what the learned reply reward needs from a sentence encoder (a batch of texts to (N,H)
// floats, plus the identity of the encoder so a saved model can refuse another one), and BertTextEmbedder,
// its implementation over the cached UtteranceEncoder service (one BERT pass per distinct text).
// Tested by tests/NanoMbpo.Bert.Tests/ReplyRewardModelTests.cs.
using NanoMbpo.Bert;

namespace NanoMbpo.Dialog.Rewards;

public interface ITextEmbedder
{
    /// <summary>Length H of every embedding.</summary>
    int Hidden { get; }
    /// <summary>sha256 of the encoder's weights (BertCheckpoint.ModelSha256); saved models record it.</summary>
    string CheckpointSha256 { get; }
    /// <summary>How token states become one vector: "cls" or "mean".</summary>
    string Pooling { get; }
    /// <summary>One H-vector per text, in input order.</summary>
    float[][] Embed(IReadOnlyList<string> texts);
}

/// <summary>An ITextEmbedder over UtteranceEncoder: embeddings are cached on disk under <c>cacheDir</c>
/// per (checkpoint, pooling, max length), so each distinct reply runs through BERT once.</summary>
public sealed class BertTextEmbedder : ITextEmbedder, IDisposable
{
    readonly UtteranceEncoder encoder;

    /// <param name="pooling">Mean is the pooling all-MiniLM-L6-v2 was trained with (the default); Cls also works.</param>
    public BertTextEmbedder(BertCheckpoint checkpoint, string cacheDir, Pooling pooling = Bert.Pooling.Mean, int maxLength = 128)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        encoder = new UtteranceEncoder(checkpoint, cacheDir, pooling, maxLength);
        CheckpointSha256 = checkpoint.ModelSha256;
        Pooling = pooling.ToString().ToLowerInvariant();
    }

    public int Hidden => encoder.Hidden;
    public string CheckpointSha256 { get; }
    public string Pooling { get; }
    /// <summary>Texts run through BERT so far (cache misses).</summary>
    public long Encoded => encoder.Encoded;
    /// <summary>The on-disk cache held vectors this build does not reproduce and was emptied (UtteranceEncoder.Discarded).</summary>
    public bool CacheDiscarded => encoder.Discarded;
    public float[][] Embed(IReadOnlyList<string> texts) => encoder.Encode(texts);
    public void Dispose() => encoder.Dispose();
}
