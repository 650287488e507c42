// BertConfig: the Hugging Face BertConfig fields this encoder uses, read from and written to
// config.json (unknown fields ignored on read; written in the order transformers writes them).
// Read validates every field it uses (type, range, heads dividing hidden) and names the file and field.
// Tests: tests/NanoMbpo.Bert.Tests/LoaderTests.cs, ConverterTests.cs.
using System.Text.Json;
using System.Text.Json.Nodes;
using NanoMbpo.Bert.IO;

namespace NanoMbpo.Bert;

public sealed record BertConfig
{
    public int VocabSize { get; init; } = 30522;
    public int HiddenSize { get; init; } = 768;
    public int NumHiddenLayers { get; init; } = 12;
    public int NumAttentionHeads { get; init; } = 12;
    public int IntermediateSize { get; init; } = 3072;
    public string HiddenAct { get; init; } = "gelu";
    public int MaxPositionEmbeddings { get; init; } = 512;
    public int TypeVocabSize { get; init; } = 2;
    public double LayerNormEps { get; init; } = 1e-12;
    public int PadTokenId { get; init; }
    public double HiddenDropoutProb { get; init; } = 0.1;
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    public double InitializerRange { get; init; } = 0.02;

    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>The all-MiniLM-L6-v2 shape (hidden 384, 6 layers, 12 heads, FFN 1536).</summary>
    public static BertConfig MiniLmL6 => new() { HiddenSize = 384, NumHiddenLayers = 6, NumAttentionHeads = 12, IntermediateSize = 1536 };

    public static BertConfig Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"BERT config '{path}' does not exist", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new BertFormatException(path, null, $"not valid JSON: {e.Message}"); }
        if (root is not JsonObject o) throw new BertFormatException(path, null, "expected a JSON object");
        // JsonObject builds its key table on first use and throws ArgumentException on a repeated key.
        try { _ = o.Count; }
        catch (ArgumentException e) { throw new BertFormatException(path, null, $"repeated key in the JSON object: {e.Message}"); }
        var c = new BertConfig
        {
            VocabSize = Int(o, path, "vocab_size", null),
            HiddenSize = Int(o, path, "hidden_size", null),
            NumHiddenLayers = Int(o, path, "num_hidden_layers", null),
            NumAttentionHeads = Int(o, path, "num_attention_heads", null),
            IntermediateSize = Int(o, path, "intermediate_size", null),
            MaxPositionEmbeddings = Int(o, path, "max_position_embeddings", 512),
            TypeVocabSize = Int(o, path, "type_vocab_size", 2),
            PadTokenId = Int(o, path, "pad_token_id", 0, allowZero: true),
            LayerNormEps = Double(o, path, "layer_norm_eps", 1e-12),
            HiddenDropoutProb = Double(o, path, "hidden_dropout_prob", 0.1, allowZero: true),
            AttentionProbsDropoutProb = Double(o, path, "attention_probs_dropout_prob", 0.1, allowZero: true),
            InitializerRange = Double(o, path, "initializer_range", 0.02),
            HiddenAct = o["hidden_act"] is JsonValue v && v.TryGetValue(out string? s) ? s : "gelu",
        };
        if (o["model_type"] is JsonValue mt && mt.TryGetValue(out string? type) && type != "bert")
            throw new BertFormatException(path, "model_type", $"expected \"bert\", got \"{type}\"");
        if (o["position_embedding_type"] is JsonValue pe && pe.TryGetValue(out string? pet) && pet != "absolute")
            throw new BertFormatException(path, "position_embedding_type", $"expected \"absolute\", got \"{pet}\"");
        c.Validate(path);
        return c;
    }

    /// <summary>Checks the fields against each other; <paramref name="source"/> names the origin in errors.</summary>
    public void Validate(string source)
    {
        if (HiddenSize % NumAttentionHeads != 0)
            throw new BertFormatException(source, "num_attention_heads", $"expected a divisor of hidden_size {HiddenSize}, got {NumAttentionHeads}");
        if (HiddenAct is not ("gelu" or "gelu_python"))
            throw new BertFormatException(source, "hidden_act", $"expected \"gelu\" (erf), got \"{HiddenAct}\"");
        if (PadTokenId >= VocabSize)
            throw new BertFormatException(source, "pad_token_id", $"expected < vocab_size {VocabSize}, got {PadTokenId}");
    }

    static int Int(JsonObject o, string path, string field, int? fallback, bool allowZero = false)
    {
        var n = o[field];
        if (n is null)
            return fallback ?? throw new BertFormatException(path, field, "missing (expected a positive integer)");
        if (n is not JsonValue v || !v.TryGetValue(out int x) && !(v.TryGetValue(out double d) && d == Math.Floor(d) && (x = (int)d) == d))
            throw new BertFormatException(path, field, $"expected an integer, got {n.ToJsonString()}");
        if (x < 0 || x == 0 && !allowZero) throw new BertFormatException(path, field, $"expected a positive integer, got {x}");
        return x;
    }

    static double Double(JsonObject o, string path, string field, double fallback, bool allowZero = false)
    {
        var n = o[field];
        if (n is null) return fallback;
        if (n is not JsonValue v || !v.TryGetValue(out double x))
            throw new BertFormatException(path, field, $"expected a number, got {n.ToJsonString()}");
        if (x < 0 || x == 0 && !allowZero || double.IsNaN(x)) throw new BertFormatException(path, field, $"expected a positive number, got {x}");
        return x;
    }

    /// <summary>config.json text in Hugging Face's field names.</summary>
    public string ToJson()
    {
        var o = new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"),
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["hidden_size"] = HiddenSize,
            ["initializer_range"] = InitializerRange,
            ["intermediate_size"] = IntermediateSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["model_type"] = "bert",
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["pad_token_id"] = PadTokenId,
            ["position_embedding_type"] = "absolute",
            ["type_vocab_size"] = TypeVocabSize,
            ["vocab_size"] = VocabSize,
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
