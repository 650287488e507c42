// UtteranceEncoder: the agent's utterance embedding service. Batch encoding with an on-disk cache keyed by
// the checkpoint's sha256 (model.safetensors), the pooling and max length, and the text: each distinct
// utterance is encoded once per checkpoint. The cache is one append-only file per (checkpoint, pooling,
// max length) in the cache directory: records [int32 UTF-8 length][UTF-8 text][H float32][uint64 FNV-1a of
// the record's bytes]. Loading stops at the first record that is torn (a crash mid-append) or fails its
// checksum (a damaged disk block): that record and any after it are dropped and recomputed on demand,
// never used; the next append overwrites them. One process writes a cache file at a time (an exclusive
// open); another reads a snapshot and keeps its new vectors in memory. The record format is UtteranceCacheFile.cs.
// A vector is a pure function of its text here (PaddingInvarianceTests), so on opening a few cached texts are
// encoded again: if any differs in a single bit, the file was written by other arithmetic (older code, another
// CPU's kernels) and is discarded, because a run's results must not depend on what an earlier build cached.
// Tests: tests/NanoMbpo.Bert.Tests/UtteranceEncoderTests.cs.
using System.Text;

namespace NanoMbpo.Bert;

public sealed class UtteranceEncoder : IDisposable
{
    readonly BertEncoder encoder;
    readonly Pooling pooling;
    readonly Dictionary<string, float[]> cache = new(StringComparer.Ordinal);
    readonly FileStream? file, writerLock;

    /// <summary>The cache file in use.</summary>
    public string CachePath { get; }
    /// <summary>Texts run through the model since construction (cache misses).</summary>
    public long Encoded { get; private set; }
    public int Hidden => encoder.Hidden;

    public UtteranceEncoder(BertEncoder encoder, string checkpointSha256, string cacheDir, Pooling pooling = Pooling.Cls)
    {
        if (pooling == Pooling.None) throw new ArgumentException("the utterance encoder pools: Cls or Mean.", nameof(pooling));
        if (checkpointSha256.Length < 16) throw new ArgumentException($"checkpoint hash '{checkpointSha256}' is too short.", nameof(checkpointSha256));
        this.encoder = encoder; this.pooling = pooling;
        Directory.CreateDirectory(cacheDir);
        CachePath = Path.Combine(cacheDir, $"{checkpointSha256[..16]}-{pooling.ToString().ToLowerInvariant()}-{encoder.MaxLength}.v2.bin");
        // One writer per cache file: two processes appending at their own positions (two `train` runs started
        // together) interleaved their records and one read the file while the other cut its tail. The first
        // process holds it exclusively; a second one reads a snapshot and keeps its new vectors in memory.
        // (the exclusive open is of a lock file beside it, so readers can still open the cache itself)
        try { writerLock = new FileStream(CachePath + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            ReadOnly = true;
            if (File.Exists(CachePath))
            {
                using var snapshot = new FileStream(CachePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                UtteranceCacheFile.ReadRecords(snapshot, Hidden, cache);
            }
            if (!CachedVectorsReproduce()) { cache.Clear(); Discarded = true; }
            return;
        }
        file = new FileStream(CachePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        Load();
        if (!CachedVectorsReproduce()) { cache.Clear(); file.SetLength(0); file.Position = 0; Discarded = true; }
    }

    /// <summary>True when the cache file held vectors this build does not reproduce bit for bit, and was emptied.</summary>
    public bool Discarded { get; }

    /// <summary>The first few cached texts (up to 4, in file order), encoded again one by one, give the cached bits.</summary>
    bool CachedVectorsReproduce()
    {
        var probe = cache.Take(4).ToList();
        foreach (var (text, cached) in probe)
        {
            var e = encoder.Embed([text], pooling);
            for (int k = 0; k < Hidden; k++)
                if (BitConverter.SingleToInt32Bits(e[0, k]) != BitConverter.SingleToInt32Bits(cached[k])) return false;
        }
        return true;
    }

    /// <summary>True when another process holds the cache file: vectors encoded here stay in memory.</summary>
    public bool ReadOnly { get; }

    public UtteranceEncoder(BertCheckpoint checkpoint, string cacheDir, Pooling pooling = Pooling.Cls, int maxLength = 128)
        : this(new BertEncoder(checkpoint, maxLength), checkpoint.ModelSha256, cacheDir, pooling) { }

    void Load()
    {
        long good = UtteranceCacheFile.ReadRecords(file!, Hidden, cache);
        file!.SetLength(good);   // drop a torn or damaged record and what follows
        file.Position = good;
    }

    /// <summary>Embeddings (N,H) in input order; only texts not yet in the cache run through the model.</summary>
    public float[][] Encode(IReadOnlyList<string> texts)
    {
        var missing = texts.Where(t => !cache.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var e = encoder.Embed(missing, pooling);
            int h = Hidden;
            var bw = file == null ? null : new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
            for (int i = 0; i < missing.Count; i++)
            {
                var v = new float[h];
                for (int k = 0; k < h; k++) v[k] = e[i, k];
                cache[missing[i]] = v;
                if (bw != null) UtteranceCacheFile.WriteRecord(bw, missing[i], v);
            }
            bw?.Flush();
            file?.Flush(flushToDisk: false);
            Encoded += missing.Count;
        }
        return texts.Select(t => cache[t]).ToArray();
    }

    public float[] Encode(string text) => Encode([text])[0];

    public void Dispose() { file?.Dispose(); writerLock?.Dispose(); }
}
