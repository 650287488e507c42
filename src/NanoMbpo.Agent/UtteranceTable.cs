// The agent's utterance memory: every distinct utterance text gets an integer id and its embedding row
// (from an ITextEmbedder: BertTextEmbedder, the cached BERT service, in training; a hashed bag of words in
// fast tests), so replay stores a dialog state as a window of ids and each text is embedded once. A window is
// the last MaxSeqLen utterances, right aligned, −1 marking the zero padding in front of a short history.
// Tested by tests/NanoMbpo.Agent.Tests/LatentTests.cs.
using NanoMbpo.Dialog;
using NanoMbpo.Dialog.Rewards;

namespace NanoMbpo.Agent;

/// <summary>Hashed unigrams and bigrams of one utterance (no model): the fast stand-in for BERT's
/// BertTextEmbedder (NanoMbpo.Dialog.Rewards) in tests and quick checks.</summary>
public sealed class HashedUtteranceEmbedder(int dim = 64) : ITextEmbedder
{
    readonly HashedTextEncoder inner = new(dim, 1);
    public int Hidden => dim;
    public string CheckpointSha256 => $"hashed-{dim}";
    public string Pooling => "none";

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var rows = new float[texts.Count][];
        for (int i = 0; i < texts.Count; i++) inner.Encode([new Utterance(Speaker.Customer, texts[i])], rows[i] = new float[dim]);
        return rows;
    }
}

public sealed class UtteranceTable
{
    readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);
    readonly List<string> texts = [];
    float[] rows = new float[1024];      // raw embeddings
    float[] normed = [];                 // standardised rows once the normaliser is fixed
    /// <summary>Per-dimension mean and standard deviation the rows are standardised with (null: raw rows).
    /// BERT [CLS] vectors share a large common component; without this the latent encoder saw near-identical
    /// inputs and its latents shrank together.</summary>
    public float[]? Mean { get; private set; }
    public float[]? StdDev { get; private set; }

    public ITextEmbedder Embedder { get; }
    /// <summary>What the rows come from, as a run's config.json records it ("hashed-N" or the BERT folder's name).</summary>
    public string Name { get; }
    public int Dim => Embedder.Hidden;
    public int Count => texts.Count;

    public UtteranceTable(ITextEmbedder embedder, string? name = null)
    {
        Embedder = embedder; Name = name ?? embedder.CheckpointSha256;
        rows = new float[256 * embedder.Hidden];
    }

    /// <summary>The ids of <paramref name="batch"/>, embedding the texts not seen before in one call.</summary>
    public void Ids(IReadOnlyList<string> batch, Span<int> dst)
    {
        List<string>? missing = null;
        foreach (var t in batch)
            if (!ids.ContainsKey(t) && !(missing?.Contains(t) ?? false)) (missing ??= []).Add(t);
        if (missing != null)
        {
            int start = texts.Count, need = (start + missing.Count) * Dim;
            if (need > rows.Length) Array.Resize(ref rows, Math.Max(need, rows.Length * 2));
            var e = Embedder.Embed(missing);
            for (int i = 0; i < e.Length; i++) e[i].CopyTo(rows.AsSpan((start + i) * Dim, Dim));
            foreach (var t in missing) { ids[t] = texts.Count; texts.Add(t); }
            if (Mean != null) NormaliseFrom(start);
        }
        for (int i = 0; i < batch.Count; i++) dst[i] = ids[batch[i]];
    }

    public int Id(string text) { Span<int> one = stackalloc int[1]; Ids([text], one); return one[0]; }

    public ReadOnlySpan<float> Row(int id) => Mean == null ? rows.AsSpan(id * Dim, Dim) : normed.AsSpan(id * Dim, Dim);

    /// <summary>Fixes the normaliser from the rows seen so far (the agent does it once, after its random dialogs).</summary>
    public void FitNormaliser()
    {
        int n = Count, d = Dim;
        if (n < 2) throw new InvalidOperationException("utterance table: at least two utterances are needed to fit the normaliser.");
        var mean = new double[d]; var sq = new double[d];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < d; k++) { double v = rows[i * d + k]; mean[k] += v; sq[k] += v * v; }
        Mean = new float[d]; StdDev = new float[d];
        for (int k = 0; k < d; k++)
        {
            double m = mean[k] / n;
            Mean[k] = (float)m; StdDev[k] = (float)Math.Max(1e-4, Math.Sqrt(Math.Max(0, sq[k] / n - m * m)));
        }
        NormaliseFrom(0);
    }

    /// <summary>Uses a saved normaliser (a trained policy's).</summary>
    public void SetNormaliser(float[] mean, float[] std)
    {
        if (mean.Length != Dim || std.Length != Dim) throw new ArgumentException($"normaliser: expected {Dim} values, got {mean.Length} and {std.Length}.");
        Mean = mean; StdDev = std;
        NormaliseFrom(0);
    }

    void NormaliseFrom(int start)
    {
        int d = Dim;
        if (normed.Length < rows.Length) Array.Resize(ref normed, rows.Length);
        for (int i = start; i < Count; i++)
            for (int k = 0; k < d; k++) normed[i * d + k] = (rows[i * d + k] - Mean![k]) / StdDev![k];
    }
    public string Text(int id) => texts[id];

    /// <summary>The window of the last <paramref name="window"/>.Length utterances of a history, right aligned.</summary>
    public void Window(IReadOnlyList<Utterance> history, Span<int> window)
    {
        int L = window.Length, n = Math.Min(L, history.Count);
        window.Fill(-1);
        var last = new string[n];
        for (int i = 0; i < n; i++) last[i] = history[history.Count - n + i].Text;
        Ids(last, window[(L - n)..]);
    }

    /// <summary>The distinct utterances of n windows of length L (ids; −1 = padding) as rows (U+1,Dim) with a zero
    /// padding row last, the windows re-indexed into them (n,L) and the padding mask (n,L): the latent encoder
    /// projects each distinct utterance of a batch once.</summary>
    public (Tensor Rows, Tensor Ids, Tensor Mask) Distinct(ReadOnlySpan<int> windows, int n, int L)
    {
        var local = new Dictionary<int, int>();
        var ids = new int[n * L]; var mask = new int[n * L];
        for (int i = 0; i < n * L; i++)
            if (windows[i] >= 0 && !local.ContainsKey(windows[i])) local[windows[i]] = local.Count;
        int U = local.Count, h = Dim;
        for (int i = 0; i < n * L; i++) { int w = windows[i]; ids[i] = w < 0 ? U : local[w]; mask[i] = w < 0 ? 1 : 0; }
        var rows = new float[(U + 1) * h];
        foreach (var (id, k) in local) Row(id).CopyTo(rows.AsSpan(k * h, h));
        return (Tensor.FromArray(rows, U + 1, h), Tensor.FromArray(ids, n, L), Tensor.FromArray(mask, n, L));
    }

    /// <summary>Gathers windows (B,L) of ids into embeddings (B,L,Dim) and the padding mask (B,L), 1 = padding.</summary>
    public void Gather(ReadOnlySpan<int> windows, int B, int L, Span<float> x, Span<int> mask)
    {
        int d = Dim;
        for (int i = 0; i < B * L; i++)
        {
            int id = windows[i];
            var dst = x.Slice(i * d, d);
            if (id < 0) { dst.Clear(); mask[i] = 1; }
            else { Row(id).CopyTo(dst); mask[i] = 0; }
        }
    }
}
