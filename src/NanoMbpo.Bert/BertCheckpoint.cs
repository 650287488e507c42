// BertCheckpoint: loads a weights directory (config.json, vocab.txt, model.safetensors; see
// weights/README.md) into a BertModel. Everything is validated before any parameter is written:
// config fields, vocab lines = vocab_size, the safetensors header against the file length, every key
// (with or without "bert."; position_ids and task heads accepted), shape and dtype (F32; F16, BF16
// widened). Weights are copied out of a read-only memory map. Nothing is half-loaded: on any error
// no model is returned. Tests: tests/NanoMbpo.Bert.Tests/LoaderTests.cs.
using System.IO.MemoryMappedFiles;
using NanoMbpo.Bert.IO;
using NanoMbpo.IO;

namespace NanoMbpo.Bert;

public sealed class BertCheckpoint
{
    public required string Directory { get; init; }
    public required BertConfig Config { get; init; }
    public required BertModel Model { get; init; }
    public required ParameterStore Store { get; init; }
    public string VocabPath => Path.Combine(Directory, BertConverter.VocabFile);
    /// <summary>sha256 of model.safetensors (from SHA256SUMS when present, else computed).</summary>
    public required string ModelSha256 { get; init; }

    public static BertCheckpoint Load(string dir)
    {
        if (!System.IO.Directory.Exists(dir)) throw new DirectoryNotFoundException($"BERT weights directory '{dir}' does not exist");
        var config = BertConfig.Read(Path.Combine(dir, BertConverter.ConfigFile));
        string vocabPath = Path.Combine(dir, BertConverter.VocabFile);
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"vocabulary '{vocabPath}' does not exist", vocabPath);
        int lines = CountLines(vocabPath);
        if (lines != config.VocabSize)
            throw new BertFormatException(vocabPath, "vocab_size", $"config.json says {config.VocabSize} tokens, vocab.txt has {lines} lines");
        string path = Path.Combine(dir, BertConverter.ModelFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"weights '{path}' do not exist", path);

        using var file = SafeTensorsFile.Open(path);   // header validated against the file length here
        var byKey = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        foreach (var e in file.Entries)
        {
            string key = BertKeys.Strip(e.Name);
            if (!byKey.TryAdd(key, e)) throw new BertFormatException(path, $"key '{key}'", "present both with and without the 'bert.' prefix");
            bool ok = key == BertKeys.PositionIds ? e.DType is SafeTensorsDType.I64 or SafeTensorsDType.I32
                : BertKeys.IsHead(key) || e.DType is SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16;
            if (!ok) throw new BertFormatException(path, $"key '{e.Name}' dtype", $"expected {(key == BertKeys.PositionIds ? "I64" : "F32, F16 or BF16")}, actual {e.DType}");
        }
        bool pooler = BertKeys.Check(path, config, byKey.ToDictionary(kv => kv.Key, kv => kv.Value.ShapeArray(), StringComparer.Ordinal));

        // Entries are contiguous in buffer order (validated by the header parser): offsets are running sums.
        long fileLength = new FileInfo(path).Length, total = file.Entries.Sum(e => e.ByteLength);
        long bufferStart = fileLength - total, offset = 0;
        var offsets = new Dictionary<SafeTensorEntry, long>();
        foreach (var e in file.Entries) { offsets[e] = bufferStart + offset; offset += e.ByteLength; }

        var store = new ParameterStore(DType.F32, 1 << 20);
        var model = new BertModel(store, config, pooler, new Rng(0));
        using (var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read))
        using (var view = mmf.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read))
            CopyAll(view, model, byKey, offsets);
        return new BertCheckpoint { Directory = dir, Config = config, Model = model, Store = store, ModelSha256 = ModelHash(dir, path) };
    }

    static unsafe void CopyAll(MemoryMappedViewAccessor view, BertModel model, Dictionary<string, SafeTensorEntry> byKey, Dictionary<SafeTensorEntry, long> offsets)
    {
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        try
        {
            basePtr += view.PointerOffset;
            foreach (var p in model.Parameters())
            {
                var e = byKey[p.Name!];
                var src = new ReadOnlySpan<byte>(basePtr + offsets[e], checked((int)e.ByteLength));
                Widen(src, e.DType, p.F32);
            }
        }
        finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
    }

    /// <summary>Little-endian F32 / F16 / BF16 bytes → float32.</summary>
    internal static void Widen(ReadOnlySpan<byte> src, SafeTensorsDType dtype, Span<float> dst)
    {
        switch (dtype)
        {
            case SafeTensorsDType.F32:
                System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                break;
            case SafeTensorsDType.F16:
                var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)h[i];
                break;
            case SafeTensorsDType.BF16:
                var b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(b[i] << 16);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a float dtype");
        }
    }

    static int CountLines(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int n = bytes.AsSpan().Count((byte)'\n');
        return bytes.Length > 0 && bytes[^1] != '\n' ? n + 1 : n;
    }

    static string ModelHash(string dir, string modelPath)
    {
        var sums = Path.Combine(dir, BertConverter.SumsFile);
        if (File.Exists(sums))
            foreach (var line in File.ReadAllLines(sums))
                if (line.EndsWith("  " + BertConverter.ModelFile, StringComparison.Ordinal)) return line[..64];
        return BertConverter.Sha256(modelPath);
    }
}
