// OnnxBertReader: recovers a Hugging Face BertModel checkpoint from a plain ONNX export of a BERT.
// Initializers that keep their HF names (embeddings, LayerNorms, biases, pooler) are taken as they are
// ("bert." stripped). Each Linear weight renamed by the exporter ("927", "onnx::MatMul_788") is found
// as the initializer input of a MatMul whose output feeds an Add with a named bias: its key is the
// bias key with ".bias" -> ".weight", and it is transposed back from (in,out) to (out,in). Never from
// the numbers' order. Heads and LayerNorm eps come from the graph (the head Reshape's constant shape,
// the Add before Sqrt), unless a config is given. Tests: tests/NanoMbpo.Bert.Tests/OnnxReaderTests.cs.
using System.Runtime.InteropServices;
using NanoMbpo.IO;

namespace NanoMbpo.Bert.IO;

public static class OnnxBertReader
{
    /// <summary>Reads the model; <paramref name="config"/> (e.g. a config.json beside it) overrides what
    /// the graph implies. The vocabulary comes from the caller.</summary>
    public static BertTensorSet Read(OnnxModel m, string vocab, BertConfig? config = null)
    {
        string path = m.Path;
        var inits = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (var t in m.Initializers) inits.TryAdd(t.Name, t);
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var n in m.Nodes)
        {
            foreach (var o in n.Outputs) producer[o] = n;
            foreach (var i in n.Inputs) { if (!consumers.TryGetValue(i, out var l)) consumers[i] = l = []; l.Add(n); }
        }
        var tensors = new Dictionary<string, BertTensor>(StringComparer.Ordinal);
        var matmulWeights = new HashSet<string>(StringComparer.Ordinal);
        // 1. Linear weights behind MatMul → Add(named bias).
        foreach (var n in m.Nodes.Where(n => n.OpType == "MatMul"))
        {
            var w = n.Inputs.FirstOrDefault(i => inits.TryGetValue(i, out var t) && t.Dims.Length == 2);
            if (w is null) continue;   // activation × activation (attention scores)
            var t = inits[w];
            string output = n.Outputs[0];
            var adds = consumers.GetValueOrDefault(output) ?? [];
            string? bias = adds.Where(a => a.OpType == "Add").SelectMany(a => a.Inputs)
                .FirstOrDefault(i => i != output && inits.ContainsKey(i) && BertKeys.Strip(i).EndsWith(".bias", StringComparison.Ordinal));
            if (bias is null)
                throw new BertFormatException(path, $"MatMul node '{n.Name}', weight initializer '{w}' ({string.Join(",", t.Dims)})",
                    $"expected its output '{output}' to feed an Add with a named bias initializer ('...bias'), actual consumers: [{string.Join(", ", adds.Select(a => $"{a.OpType} '{a.Name}'({string.Join(",", a.Inputs)})"))}]");
            string key = BertKeys.Strip(bias)[..^".bias".Length] + ".weight";
            long inF = t.Dims[0], outF = t.Dims[1];
            long biasLen = inits[bias].ElementCount;
            if (biasLen != outF)
                throw new BertFormatException(path, $"key '{key}' (initializer '{w}')", $"MatMul weight (in,out) = ({inF},{outF}) but its bias '{bias}' has {biasLen} elements");
            if (!tensors.TryAdd(key, new BertTensor(key, SafeTensorsDType.F32, [(int)outF, (int)inF],
                    BertTensorSet.Transpose(Floats(t, path), (int)outF, (int)inF))))
                throw new BertFormatException(path, $"key '{key}'", $"recovered twice (MatMul '{n.Name}' with weight '{w}' is the second)");
            matmulWeights.Add(w);
        }
        // 2. Initializers that keep their Hugging Face names.
        var cfg = InferConfig(m, inits, producer, consumers, config);
        var known = BertKeys.Expected(cfg, pooler: true).Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var t in m.Initializers)
        {
            if (matmulWeights.Contains(t.Name)) continue;
            string key = BertKeys.Strip(t.Name);
            if (key == BertKeys.PositionIds)
            {
                tensors[key] = new BertTensor(key, SafeTensorsDType.I64, ToInts(t.Dims, path, key), Int64Bytes(t, path));
                continue;
            }
            if (!known.Contains(key)) continue;   // shape constants and the like
            if (tensors.ContainsKey(key))
                throw new BertFormatException(path, $"key '{key}'", $"present both as a named initializer and recovered from a MatMul");
            var floats = Floats(t, path);   // validates type and length
            var data = t.FloatData is null ? t.RawData : MemoryMarshal.AsBytes(floats.AsSpan()).ToArray();
            tensors[key] = new BertTensor(key, SafeTensorsDType.F32, ToInts(t.Dims, path, key), data);
        }
        if (!tensors.ContainsKey(BertKeys.PositionIds))
            tensors[BertKeys.PositionIds] = BertTensorSet.PositionIds(cfg.MaxPositionEmbeddings);
        var set = new BertTensorSet { Config = cfg, Vocab = vocab, Tensors = [.. tensors.Values], Source = path };
        BertKeys.Check(path, cfg, set.Shapes());
        return set;
    }

    static BertConfig InferConfig(OnnxModel m, Dictionary<string, OnnxTensor> inits, Dictionary<string, OnnxNode> producer,
        Dictionary<string, List<OnnxNode>> consumers, BertConfig? given)
    {
        string path = m.Path;
        OnnxTensor Named(string key) => inits.Values.FirstOrDefault(t => BertKeys.Strip(t.Name) == key)
            ?? throw new BertFormatException(path, $"key '{key}'", "missing: no initializer of that name (with or without 'bert.')");
        var word = Named("embeddings.word_embeddings.weight");
        int LayerIndex(string k) =>
            int.TryParse(k.Split('.')[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int i) && i < 1024 ? i
            : throw new BertFormatException(path, $"key '{k}'", "expected encoder.layer.N.… with N a layer index 0-1023");
        int layers = inits.Keys.Select(BertKeys.Strip).Where(k => k.StartsWith("encoder.layer.", StringComparison.Ordinal))
            .Select(LayerIndex).DefaultIfEmpty(-1).Max() + 1;
        if (given is not null) return given;
        int hidden = (int)word.Dims[1];
        var qBias = inits.Keys.FirstOrDefault(k => BertKeys.Strip(k) == "encoder.layer.0.attention.self.query.bias")
            ?? throw new BertFormatException(path, "key 'encoder.layer.0.attention.self.query.bias'", "missing");
        int heads = HeadsFromGraph(qBias, inits, producer, consumers, hidden)
            ?? throw new BertFormatException(path, "num_attention_heads", "cannot be read from the graph (no constant head Reshape after the query projection); give a config.json");
        return new BertConfig
        {
            VocabSize = (int)word.Dims[0], HiddenSize = hidden, NumHiddenLayers = layers, NumAttentionHeads = heads,
            IntermediateSize = (int)Named("encoder.layer.0.intermediate.dense.bias").ElementCount,
            MaxPositionEmbeddings = (int)Named("embeddings.position_embeddings.weight").Dims[0],
            TypeVocabSize = (int)Named("embeddings.token_type_embeddings.weight").Dims[0],
            LayerNormEps = EpsFromGraph(m, inits, producer) ?? 1e-12,
        };
    }

    /// <summary>NH from the Reshape that splits the query into heads: its shape ends in (NH, HS).</summary>
    static int? HeadsFromGraph(string qBias, Dictionary<string, OnnxTensor> inits, Dictionary<string, OnnxNode> producer,
        Dictionary<string, List<OnnxNode>> consumers, int hidden)
    {
        foreach (var add in consumers.GetValueOrDefault(qBias) ?? [])
            foreach (var reshape in (consumers.GetValueOrDefault(add.Outputs[0]) ?? []).Where(n => n.OpType == "Reshape" && n.Inputs.Length > 1))
            {
                var shape = ConstInts(reshape.Inputs[1], inits, producer);
                if (shape is null && producer.TryGetValue(reshape.Inputs[1], out var concat) && concat.OpType == "Concat")
                {
                    var tail = concat.Inputs.TakeLast(2).Select(i => ConstInts(i, inits, producer)).ToList();
                    if (tail.All(x => x is { Length: 1 })) shape = [tail[0]![0], tail[1]![0]];
                }
                if (shape is { Length: >= 2 } && shape[^2] > 0 && shape[^2] * shape[^1] == hidden) return (int)shape[^2];
            }
        return null;
    }

    static double? EpsFromGraph(OnnxModel m, Dictionary<string, OnnxTensor> inits, Dictionary<string, OnnxNode> producer)
    {
        foreach (var sqrt in m.Nodes.Where(n => n.OpType == "Sqrt"))
            if (producer.TryGetValue(sqrt.Inputs[0], out var add) && add.OpType == "Add")
                foreach (var i in add.Inputs)
                    if (ConstTensor(i, inits, producer) is { DataType: OnnxDataType.Float, ElementCount: 1 } t)
                        return double.Parse(Floats(t, m.Path)[0].ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);   // 1e-12, not 9.99999996e-13
        return null;
    }

    static OnnxTensor? ConstTensor(string name, Dictionary<string, OnnxTensor> inits, Dictionary<string, OnnxNode> producer) =>
        inits.TryGetValue(name, out var t) ? t : producer.TryGetValue(name, out var n) && n.OpType == "Constant" ? n.ConstantValue : null;

    static long[]? ConstInts(string name, Dictionary<string, OnnxTensor> inits, Dictionary<string, OnnxNode> producer) =>
        ConstTensor(name, inits, producer) is { DataType: OnnxDataType.Int64 } t
            ? t.Int64Data ?? MemoryMarshal.Cast<byte, long>(t.RawData.Span).ToArray() : null;

    /// <summary>Float32 values of an initializer (raw_data or float_data), length checked against dims.</summary>
    public static float[] Floats(OnnxTensor t, string path)
    {
        if (t.External) throw new BertFormatException(path, $"initializer '{t.Name}' data_location", "external data is not supported; export with the weights inside the .onnx file");
        if (t.DataType != OnnxDataType.Float) throw new BertFormatException(path, $"initializer '{t.Name}' data_type", $"expected FLOAT (1), got {t.DataType} ({(int)t.DataType})");
        float[] v = t.FloatData ?? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        if (t.FloatData is null && t.RawData.Length % 4 != 0 || v.LongLength != t.ElementCount)
            throw new BertFormatException(path, $"initializer '{t.Name}' raw_data/float_data", $"expected {t.ElementCount} floats for dims [{string.Join(",", t.Dims)}], got {(t.FloatData is null ? t.RawData.Length + " bytes" : v.Length + " floats")}");
        return v;
    }

    static ReadOnlyMemory<byte> Int64Bytes(OnnxTensor t, string path)
    {
        if (t.DataType != OnnxDataType.Int64) throw new BertFormatException(path, $"initializer '{t.Name}' data_type", $"expected INT64 (7), got {t.DataType}");
        ReadOnlyMemory<byte> b = t.Int64Data is { } l ? MemoryMarshal.AsBytes(l.AsSpan()).ToArray() : t.RawData;
        if (b.Length != t.ElementCount * 8)
            throw new BertFormatException(path, $"initializer '{t.Name}' raw_data", $"expected {t.ElementCount * 8} bytes for dims [{string.Join(",", t.Dims)}], got {b.Length}");
        return b;
    }

    static int[] ToInts(long[] dims, string path, string key) =>
        dims.Select(d => d <= int.MaxValue ? (int)d : throw new BertFormatException(path, $"key '{key}'", $"dimension {d} too large")).ToArray();
}
