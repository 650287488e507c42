// BertKeys: the Hugging Face BertModel state-dict keys and their shapes for a BertConfig (embeddings,
// N encoder layers, optional pooler, the I64 embeddings.position_ids buffer), and the checks shared by
// the converter and the loader: prefix stripping ("bert."), missing / unexpected keys, shapes.
// Tests: tests/NanoMbpo.Bert.Tests/LoaderTests.cs.
using NanoMbpo.Bert.IO;

namespace NanoMbpo.Bert;

public static class BertKeys
{
    public const string PositionIds = "embeddings.position_ids";
    public const string PoolerWeight = "pooler.dense.weight";
    public const string PoolerBias = "pooler.dense.bias";

    /// <summary>Every float key with its shape, in module order (embeddings, layers, pooler).</summary>
    public static List<(string Key, int[] Shape)> Expected(BertConfig c, bool pooler)
    {
        int h = c.HiddenSize, ff = c.IntermediateSize;
        var r = new List<(string, int[])>
        {
            ("embeddings.word_embeddings.weight", [c.VocabSize, h]),
            ("embeddings.position_embeddings.weight", [c.MaxPositionEmbeddings, h]),
            ("embeddings.token_type_embeddings.weight", [c.TypeVocabSize, h]),
            ("embeddings.LayerNorm.weight", [h]),
            ("embeddings.LayerNorm.bias", [h]),
        };
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string p = $"encoder.layer.{i}.";
            foreach (var n in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                r.Add((p + n + ".weight", [h, h]));
                r.Add((p + n + ".bias", [h]));
            }
            r.Add((p + "attention.output.LayerNorm.weight", [h]));
            r.Add((p + "attention.output.LayerNorm.bias", [h]));
            r.Add((p + "intermediate.dense.weight", [ff, h]));
            r.Add((p + "intermediate.dense.bias", [ff]));
            r.Add((p + "output.dense.weight", [h, ff]));
            r.Add((p + "output.dense.bias", [h]));
            r.Add((p + "output.LayerNorm.weight", [h]));
            r.Add((p + "output.LayerNorm.bias", [h]));
        }
        if (pooler)
        {
            r.Add((PoolerWeight, [h, h]));
            r.Add((PoolerBias, [h]));
        }
        return r;
    }

    /// <summary>Strips a leading "bert." (BertFor* checkpoints); other keys unchanged.</summary>
    public static string Strip(string key) => key.StartsWith("bert.", StringComparison.Ordinal) ? key[5..] : key;

    /// <summary>Task heads of BertFor* checkpoints, which a BertModel ignores.</summary>
    public static bool IsHead(string key) => key.StartsWith("cls.", StringComparison.Ordinal)
        || key.StartsWith("classifier.", StringComparison.Ordinal) || key.StartsWith("qa_outputs.", StringComparison.Ordinal);

    /// <summary>Checks a set of (stripped key → shape) against the config: every expected key present
    /// with its shape, nothing unexpected (position_ids and task heads aside). Returns whether the
    /// pooler is present. Throws a BertFormatException naming the file, key, expected and actual.</summary>
    public static bool Check(string path, BertConfig c, IReadOnlyDictionary<string, int[]> shapes)
    {
        bool hasPooler = shapes.ContainsKey(PoolerWeight) || shapes.ContainsKey(PoolerBias);
        var expected = Expected(c, hasPooler);
        var missing = expected.Where(e => !shapes.ContainsKey(e.Key)).Select(e => e.Key).ToList();
        if (missing.Count > 0)
            throw new BertFormatException(path, $"key '{missing[0]}'", $"missing ({missing.Count} missing in all: {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")})");
        var known = expected.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        var unexpected = shapes.Keys.Where(k => !known.Contains(k) && k != PositionIds && !IsHead(k)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new BertFormatException(path, $"key '{unexpected[0]}'", $"unexpected for a BertModel with {c.NumHiddenLayers} layers ({unexpected.Count} unexpected in all: {string.Join(", ", unexpected.Take(8))})");
        foreach (var (key, shape) in expected)
        {
            var actual = shapes[key];
            if (!actual.AsSpan().SequenceEqual(shape))
                throw new BertFormatException(path, $"key '{key}'", $"shape expected ({string.Join(",", shape)}) from the config, actual ({string.Join(",", actual)})");
        }
        if (shapes.TryGetValue(PositionIds, out var pos) && !(pos.Length == 2 && pos[0] == 1 && pos[1] == c.MaxPositionEmbeddings))
            throw new BertFormatException(path, $"key '{PositionIds}'", $"shape expected (1,{c.MaxPositionEmbeddings}), actual ({string.Join(",", pos)})");
        return hasPooler;
    }
}
