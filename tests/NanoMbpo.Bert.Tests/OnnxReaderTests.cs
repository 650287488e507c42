// ONNX reader: hand-built protobuf messages, truncated and corrupted files, and an ONNX graph whose
// MatMul has no named bias — each refused with the file, the field or node, expected and actual.
using System.Text;
using NanoMbpo.Bert.IO;

namespace NanoMbpo.Bert.Tests;

public class OnnxReaderTests
{
    static byte[] TinyOnnx => File.ReadAllBytes(Path.Combine(TestData.Tiny, "model.onnx"));

    [Fact]
    public void ReadsInitializersAndNodesOfTheTinyExport()
    {
        var m = OnnxModel.Parse(TinyOnnx, "tiny.onnx");
        Assert.Equal(11, m.OpsetVersion);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], m.GraphInputs);
        var word = m.Initializers.Single(t => t.Name == "embeddings.word_embeddings.weight");
        Assert.Equal([40L, 16L], word.Dims);
        Assert.Equal(OnnxDataType.Float, word.DataType);
        Assert.Equal(40 * 16 * 4, word.RawData.Length);
        Assert.Contains(m.Nodes, n => n.OpType == "Erf");
    }

    [Fact]
    public void HandBuiltModelWithFloatData()
    {
        // TensorProto{dims:[2], data_type:1, float_data:[1.5, -2] packed, name:"w"} in GraphProto.initializer in ModelProto.graph.
        var tensor = new List<byte> { 0x08, 2, 0x10, 1, 0x22, 8 };
        tensor.AddRange(BitConverter.GetBytes(1.5f)); tensor.AddRange(BitConverter.GetBytes(-2f));
        tensor.AddRange([0x42, 1, (byte)'w']);
        var graph = new List<byte> { 0x2A, (byte)tensor.Count }; graph.AddRange(tensor);
        var model = new List<byte> { 0x3A, (byte)graph.Count }; model.AddRange(graph);
        var m = OnnxModel.Parse(model.ToArray(), "hand.onnx");
        var w = Assert.Single(m.Initializers);
        Assert.Equal("w", w.Name);
        Assert.Equal([1.5f, -2f], OnnxBertReader.Floats(w, "hand.onnx"));
    }

    [Fact]
    public void TruncatedFileIsRefusedNamingTheFile()
    {
        var bytes = TinyOnnx;
        var e = Assert.Throws<BertFormatException>(() => OnnxModel.Parse(bytes.AsMemory(0, bytes.Length / 2), "half.onnx"));
        Assert.Contains("half.onnx", e.Message);
        Assert.Contains("runs past the end", e.Message);
    }

    [Fact]
    public void NonOnnxBytesAreRefused()
    {
        var e = Assert.Throws<BertFormatException>(() => OnnxModel.Parse("hello world, not protobuf"u8.ToArray(), "text.onnx"));
        Assert.Contains("text.onnx", e.Message);
    }

    [Fact]
    public void MatMulWithoutNamedBiasIsRefused()
    {
        // Rename the query bias (same length) so its Add no longer has a '...bias' initializer.
        var bytes = TinyOnnx;
        var from = Encoding.ASCII.GetBytes("encoder.layer.0.attention.self.query.bias");
        var to = Encoding.ASCII.GetBytes("encoder.layer.0.attention.self.query.bia_");
        int n = Replace(bytes, from, to);
        Assert.True(n >= 1);
        var m = OnnxModel.Parse(bytes, "nobias.onnx");
        var e = Assert.Throws<BertFormatException>(() => OnnxBertReader.Read(m, "v\n"));
        Assert.Contains("nobias.onnx", e.Message);
        Assert.Contains("MatMul node", e.Message);
        Assert.Contains("named bias", e.Message);
        Assert.Contains("query.bia_", e.Message);   // the actual consumer is named
    }

    static int Replace(byte[] haystack, byte[] from, byte[] to)
    {
        int count = 0;
        for (int i = 0; i + from.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, from.Length).SequenceEqual(from)) { to.CopyTo(haystack, i); count++; }
        return count;
    }
}

/// <summary>Fuzzing regressions for the assembly reader: an assembly whose metadata signature ("BSJB")
/// is damaged made System.Reflection.Metadata throw BadImageFormatException from a lazy table walk; it is
/// now the reader's own format error naming the file.</summary>
public class ManifestResourceRegressionTests
{
    [Fact]
    public void CorruptMetadataSignatureIsAFormatError()
    {
        var bytes = File.ReadAllBytes(typeof(NanoMbpo.Tensor).Assembly.Location);
        int at = bytes.AsSpan().IndexOf("BSJB"u8);
        Assert.True(at > 0);
        bytes[at] ^= 0xFF;
        string path = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.dll");
        File.WriteAllBytes(path, bytes);
        try
        {
            var e = Assert.Throws<NanoMbpo.Bert.IO.BertFormatException>(() => NanoMbpo.Bert.IO.ManifestResources.List(path));
            Assert.Contains(path, e.Message);
        }
        finally { File.Delete(path); }
    }
}
