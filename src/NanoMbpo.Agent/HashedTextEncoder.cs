// HashedTextEncoder: a dialog history -> fixed-size feature vector, by hashed unigrams and bigrams
// tagged with speaker and recency, plus a turn counter. It is the stage-1 stand-in for the BERT
// utterance encoder + latent Transformer (same role: history in, state vector out), deterministic
// and dependency-free. Tested by tests/NanoMbpo.Tests/Agent/AgentTests.cs.
using NanoMbpo.Dialog;

namespace NanoMbpo.Agent;

public sealed class HashedTextEncoder
{
    /// <summary>Length of the feature vector.</summary>
    public int Dim { get; }
    /// <summary>Utterances older than this many from the end share one recency bucket.</summary>
    public int RecencyBuckets { get; }
    const int TurnSlots = 16;

    public HashedTextEncoder(int dim = 1024, int recencyBuckets = 4)
    {
        if (dim < 64) throw new ArgumentOutOfRangeException(nameof(dim), dim, "expected at least 64 features");
        if (recencyBuckets < 1) throw new ArgumentOutOfRangeException(nameof(recencyBuckets), recencyBuckets, "expected at least 1");
        Dim = dim;
        RecencyBuckets = recencyBuckets;
    }

    /// <summary>Writes the features of <paramref name="history"/> into <paramref name="dst"/> (Dim).</summary>
    public void Encode(IReadOnlyList<Utterance> history, Span<float> dst)
    {
        if (dst.Length != Dim) throw new ArgumentException($"destination has {dst.Length} elements, expected {Dim}.", nameof(dst));
        dst.Clear();
        int hashed = Dim - TurnSlots;
        for (int u = 0; u < history.Count; u++)
        {
            int recency = Math.Min(history.Count - 1 - u, RecencyBuckets - 1);
            uint tag = (uint)(recency * 2 + (history[u].Speaker == Speaker.Seller ? 1 : 0));
            string prev = "<s>";
            foreach (var w in Words(history[u].Text))
            {
                dst[(int)(Fnv(tag, w, null) % (uint)hashed)] += 1f;
                dst[(int)(Fnv(tag, prev, w) % (uint)hashed)] += 1f;
                prev = w;
            }
        }
        float norm = 0;
        for (int i = 0; i < hashed; i++) norm += dst[i] * dst[i];
        if (norm > 0)
        {
            float inv = 1f / MathF.Sqrt(norm);
            for (int i = 0; i < hashed; i++) dst[i] *= inv;
        }
        int turns = history.Count(h => h.Speaker == Speaker.Seller);
        dst[hashed + Math.Min(turns, TurnSlots - 1)] = 1f;
    }

    static IEnumerable<string> Words(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i])) i++;
            int start = i;
            while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '\'')) i++;
            if (i > start) yield return text[start..i].ToLowerInvariant();
        }
    }

    // FNV-1a: stable across processes and machines (string.GetHashCode is randomised per process).
    static uint Fnv(uint tag, string a, string? b)
    {
        uint h = 2166136261u ^ tag;
        h *= 16777619u;
        foreach (char c in a) { h ^= c; h *= 16777619u; }
        if (b is not null)
        {
            h ^= 0x1F; h *= 16777619u;
            foreach (char c in b) { h ^= c; h *= 16777619u; }
        }
        return h;
    }
}
