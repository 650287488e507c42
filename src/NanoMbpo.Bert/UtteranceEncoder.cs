// UtteranceEncoder: the agent's utterance embedding service. Batch encoding with an on-disk cache keyed by
// the checkpoint's sha256 (model.safetensors), the pooling and max length, and the text: each distinct
// utterance is encoded once per checkpoint. The cache is one append-only file per (checkpoint, pooling,
// max length) in the cache directory: records [int32 UTF-8 length][UTF-8 text][H float32]; a torn last
// record (a crash mid-append) is ignored on load and overwritten by the next append.
// Tests: tests/NanoMbpo.Bert.Tests/UtteranceEncoderTests.cs.
using System.Text;

namespace NanoMbpo.Bert;

public sealed class UtteranceEncoder : IDisposable
{
    readonly BertEncoder encoder;
    readonly Pooling pooling;
    readonly Dictionary<string, float[]> cache = new(StringComparer.Ordinal);
    readonly FileStream file;

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
        CachePath = Path.Combine(cacheDir, $"{checkpointSha256[..16]}-{pooling.ToString().ToLowerInvariant()}-{encoder.MaxLength}.bin");
        file = new FileStream(CachePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        Load();
    }

    public UtteranceEncoder(BertCheckpoint checkpoint, string cacheDir, Pooling pooling = Pooling.Cls, int maxLength = 128)
        : this(new BertEncoder(checkpoint, maxLength), checkpoint.ModelSha256, cacheDir, pooling) { }

    void Load()
    {
        var br = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        long good = 0;
        int h = Hidden;
        while (true)
        {
            try
            {
                int n = br.ReadInt32();
                if (n < 0 || n > 1 << 24) break;
                var bytes = br.ReadBytes(n);
                var v = new float[h];
                var raw = br.ReadBytes(h * 4);
                if (bytes.Length != n || raw.Length != h * 4) break;
                Buffer.BlockCopy(raw, 0, v, 0, raw.Length);
                cache[Encoding.UTF8.GetString(bytes)] = v;
                good = file.Position;
            }
            catch (EndOfStreamException) { break; }
        }
        file.SetLength(good);   // drop a torn record
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
            var bw = new BinaryWriter(file, Encoding.UTF8, leaveOpen: true);
            for (int i = 0; i < missing.Count; i++)
            {
                var v = new float[h];
                for (int k = 0; k < h; k++) v[k] = e[i, k];
                cache[missing[i]] = v;
                var bytes = Encoding.UTF8.GetBytes(missing[i]);
                bw.Write(bytes.Length);
                bw.Write(bytes);
                bw.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
            }
            bw.Flush();
            file.Flush(flushToDisk: false);
            Encoded += missing.Count;
        }
        return texts.Select(t => cache[t]).ToArray();
    }

    public float[] Encode(string text) => Encode([text])[0];

    public void Dispose() => file.Dispose();
}
