// Loader: the tiny fixture loads (with and without the "bert." prefix, F16 / BF16 widened); a missing
// key, an unexpected key, a wrong shape, a wrong dtype, a truncated file and a vocabulary that disagrees
// with the config are refused before any tensor is used, naming the key, expected and actual.
using NanoMbpo.Bert.IO;
using NanoMbpo.IO;

namespace NanoMbpo.Bert.Tests;

public class LoaderTests
{
    /// <summary>A copy of the tiny fixture with model.safetensors rewritten through <paramref name="edit"/>.</summary>
    static string TinyWith(Action<SafeTensorsFile, SafeTensorsWriter>? edit, Func<string, string>? rename = null, Func<SafeTensorEntry, bool>? keep = null)
    {
        var dir = TestData.TempDir();
        foreach (var f in new[] { "config.json", "vocab.txt" }) File.Copy(Path.Combine(TestData.Tiny, f), Path.Combine(dir, f));
        using var src = SafeTensorsFile.Read(Path.Combine(TestData.Tiny, "model.safetensors"));
        var w = new SafeTensorsWriter();
        foreach (var e in src.Entries)
            if (keep?.Invoke(e) ?? true) w.AddRaw(rename?.Invoke(e.Name) ?? e.Name, e.DType, e.ShapeArray(), e.ReadBytes());
        edit?.Invoke(src, w);
        w.Save(Path.Combine(dir, "model.safetensors"));
        return dir;
    }

    [Fact]
    public void TinyLoadsWithEveryParameterEqualToTheFile()
    {
        var ck = BertCheckpoint.Load(TestData.Tiny);
        using var f = SafeTensorsFile.Read(Path.Combine(TestData.Tiny, "model.safetensors"));
        Assert.NotNull(ck.Model.Pooler);
        foreach (var p in ck.Model.Parameters())
            Assert.Equal(f[p.Name!].ReadFloat32(), p.F32.ToArray());
        Assert.Equal(f.Entries.Count - 1, ck.Model.Parameters().Count());   // all but position_ids
    }

    [Fact]
    public void BertPrefixIsAcceptedAndHeadsIgnored()
    {
        var dir = TinyWith((_, w) => w.Add("cls.predictions.bias", [40], new float[40]), rename: k => "bert." + k);
        var ck = BertCheckpoint.Load(dir);
        Assert.Equal(BertCheckpoint.Load(TestData.Tiny).Store.Data<float>().ToArray(), ck.Store.Data<float>().ToArray());
    }

    [Theory]
    [InlineData(SafeTensorsDType.F16)]
    [InlineData(SafeTensorsDType.BF16)]
    public void HalfPrecisionIsWidened(SafeTensorsDType dtype)
    {
        const string key = "encoder.layer.1.output.dense.weight";
        float[] values = [];
        var dir = TinyWith((src, w) =>
        {
            var e = src[key];
            values = e.ReadFloat32();
            var bytes = new byte[values.Length * 2];
            for (int i = 0; i < values.Length; i++)
            {
                ushort bits = dtype == SafeTensorsDType.F16 ? BitConverter.HalfToUInt16Bits((Half)values[i]) : (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16);
                BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), bits);
            }
            w.AddRaw(key, dtype, e.ShapeArray(), bytes);
        }, keep: e => e.Name != key);
        var p = BertCheckpoint.Load(dir).Store[key].F32.ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            float expected = dtype == SafeTensorsDType.F16 ? (float)(Half)values[i] : BitConverter.Int32BitsToSingle((int)(BitConverter.SingleToUInt32Bits(values[i]) & 0xFFFF0000));
            Assert.Equal(expected, p[i]);
        }
        Assert.Contains(p, v => v != 0);
    }

    [Fact]
    public void MissingKeyIsNamed()
    {
        var dir = TinyWith(null, keep: e => e.Name != "encoder.layer.1.attention.self.key.bias");
        var e = Assert.Throws<BertFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains("'encoder.layer.1.attention.self.key.bias'", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void UnexpectedKeyIsNamed()
    {
        var dir = TinyWith((_, w) => w.Add("encoder.layer.2.output.dense.bias", [16], new float[16]));
        var e = Assert.Throws<BertFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains("'encoder.layer.2.output.dense.bias'", e.Message);
        Assert.Contains("unexpected", e.Message);
    }

    [Fact]
    public void WrongShapeNamesKeyExpectedAndActual()
    {
        const string key = "encoder.layer.0.intermediate.dense.weight";
        var dir = TinyWith((_, w) => w.Add(key, [16, 32], new float[512]), keep: e => e.Name != key);
        var e = Assert.Throws<BertFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains(key, e.Message);
        Assert.Contains("expected (32,16)", e.Message);
        Assert.Contains("actual (16,32)", e.Message);
    }

    [Fact]
    public void WrongDtypeIsNamed()
    {
        const string key = "embeddings.LayerNorm.bias";
        var dir = TinyWith((_, w) => w.Add(key, [16], new double[16]), keep: e => e.Name != key);
        var e = Assert.Throws<BertFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains(key, e.Message);
        Assert.Contains("actual F64", e.Message);
    }

    [Fact]
    public void TruncatedFileIsRefused()
    {
        var dir = TinyWith(null);
        var path = Path.Combine(dir, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^100]);
        var e = Assert.Throws<SafeTensorsFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void VocabSizeDisagreeingWithConfigIsRefused()
    {
        var dir = TinyWith(null);
        File.AppendAllText(Path.Combine(dir, "vocab.txt"), "extra\n");
        var e = Assert.Throws<BertFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains("vocab_size", e.Message);
        Assert.Contains("40", e.Message);
        Assert.Contains("41", e.Message);
    }

    [Fact]
    public void BadConfigFieldIsNamed()
    {
        var dir = TinyWith(null);
        var cfg = Path.Combine(dir, "config.json");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5"));
        var e = Assert.Throws<BertFormatException>(() => BertCheckpoint.Load(dir));
        Assert.Contains("num_attention_heads", e.Message);
        Assert.Contains("got 5", e.Message);
    }
}
