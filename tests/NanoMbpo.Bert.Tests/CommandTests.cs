// The BERT commands in process (Console redirected; the "Console" collection keeps them serial):
// convert-bert on the tiny fixture, encode with each pooling on the converted tiny checkpoint (outputs
// checked against BertEncoder), encode --device ilgpu-cpu against --device cpu, bench bert on
// ilgpu-cpu, and a bad --pooling refused.
using System.CommandLine;
using NanoMbpo.IO;
using NanoMbpo.Trainer.Commands;

namespace NanoMbpo.Bert.Tests;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

[Collection("Console")]
public class CommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var root = new RootCommand("test");
        foreach (var c in CommandList.All()) root.Subcommands.Add(c);
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o); Console.SetError(e);
        try { return (root.Parse(args).Invoke(), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Fact]
    public void ConvertThenEncodeEveryPooling()
    {
        var dir = TestData.TempDir();
        var ck = Path.Combine(dir, "tiny");
        var (code, output, err) = Run("convert-bert", "--src", TestData.Tiny, "--out", ck);
        Assert.True(code == 0, err);
        Assert.Contains("  model.safetensors", output);
        var input = Path.Combine(dir, "texts.txt");
        string[] texts = ["w1 w2 w3", "w4", "w5 w6"];
        File.WriteAllLines(input, texts);
        var enc = new BertEncoder(BertCheckpoint.Load(ck), maxLength: 16);

        var mean = Path.Combine(dir, "mean.safetensors");
        (code, output, err) = Run("encode", "--bert", ck, "--input", input, "--output", mean, "--pooling", "mean", "--max-len", "16");
        Assert.True(code == 0, err);
        Assert.Contains("seq/s", err);   // progress with rate
        using (var f = SafeTensorsFile.Read(mean))
        {
            Assert.Equal([3, 16], f["embeddings"].ShapeArray());
            var e = f["embeddings"].ReadFloat32();
            var expected = enc.Embed(texts, Pooling.Mean);
            for (int i = 0; i < 3; i++) for (int k = 0; k < 16; k++) Assert.Equal(expected[i, k], e[i * 16 + k], 1e-5f);
        }

        var none = Path.Combine(dir, "none.safetensors");
        (code, _, err) = Run("encode", "--bert", ck, "--input", input, "--output", none, "--pooling", "none", "--max-len", "16");
        Assert.True(code == 0, err);
        using (var f = SafeTensorsFile.Read(none))
        {
            Assert.Equal([3, 5, 16], f["hidden"].ShapeArray());   // longest: [CLS] w1 w2 w3 [SEP]
            Assert.Equal([1, 1, 1, 0, 0], f["attention_mask"].ReadInt32().AsSpan(5, 5).ToArray());
            Assert.Equal(2, f["input_ids"].ReadInt32()[0]);        // [CLS] in the tiny vocabulary
        }

        var cls = Path.Combine(dir, "cls.safetensors");
        (code, _, err) = Run("encode", "--bert", ck, "--input", input, "--output", cls, "--pooling", "cls");
        Assert.True(code == 0, err);
        using (var f = SafeTensorsFile.Read(cls)) Assert.Equal([3, 16], f["embeddings"].ShapeArray());
    }

    [Fact]
    public void EncodeOnIlgpuCpuWritesTheCpuEmbeddings()
    {
        var dir = TestData.TempDir();
        var input = Path.Combine(dir, "texts.txt");
        File.WriteAllLines(input, ["w1 w2 w3", "w4", "w5 w6 w7 w8"]);   // one padded batch of unequal lengths
        float[] Encode(string device, string pooling, string key)
        {
            var path = Path.Combine(dir, $"{device}-{pooling}.safetensors");
            var (code, output, err) = Run("encode", "--bert", TestData.Tiny, "--input", input, "--output", path, "--pooling", pooling,
                "--max-len", "16", "--device", device);
            Assert.True(code == 0, err);
            Assert.Contains($"device: {device}", err);
            Assert.Contains($"device {device}", output);
            using var f = SafeTensorsFile.Read(path);
            Assert.Equal(device, f.Metadata["device"]);
            return f[key].ReadFloat32();
        }
        foreach (var (pooling, key) in new[] { ("mean", "embeddings"), ("cls", "embeddings"), ("none", "hidden") })
        {
            var (cpu, dev) = (Encode("cpu", pooling, key), Encode("ilgpu-cpu", pooling, key));
            Assert.Equal(cpu.Length, dev.Length);
            double worst = 0;
            for (int i = 0; i < cpu.Length; i++) worst = Math.Max(worst, Math.Abs(cpu[i] - dev[i]));   // padded rows are zeros in both
            Assert.True(worst <= 1e-4, $"{pooling}: encode --device ilgpu-cpu differs from --device cpu by up to {worst:E2}");
        }
    }

    [Fact]
    public void BenchBertRunsOnIlgpuCpu()
    {
        var (code, output, err) = Run("bench", "bert", "--layers", "1", "--hidden", "16", "--heads", "2", "--ffn", "32",
            "--batch", "2", "--seq", "8", "--seconds", "0.05", "--rounds", "1", "--device", "ilgpu-cpu");
        Assert.True(code == 0, err);
        Assert.Contains("device ilgpu-cpu: ", output);
        Assert.Contains("seq/s", output);
    }

    [Fact]
    public void ExtractGivesStatesActionsAndNextEmbeddingsOfTheCorpusTuples()
    {
        var dir = TestData.TempDir();
        var corpus = Path.Combine(dir, "corpus.json");
        var (code, _, err) = Run("corpus", "--dialogs", "3", "--seed", "4", "--out", corpus);
        Assert.True(code == 0, err);
        var tuples = NanoMbpo.Dialog.Corpus.DialogTupleExtractor.ExtractAll(NanoMbpo.Dialog.Corpus.TaskmasterReader.ReadFile(corpus), 4);
        var feats = Path.Combine(dir, "features.safetensors");
        (code, _, err) = Run("extract", "--corpus", corpus, "--bert", TestData.Tiny, "--out", feats, "--history", "4");
        Assert.True(code == 0, err);
        using var f = SafeTensorsFile.Read(feats);
        int n = tuples.Count;
        Assert.True(n > 3);
        Assert.Equal([n, 4, 16], f["state"].ShapeArray());
        var mask = f["state_mask"].ReadInt32();
        for (int i = 0; i < n; i++) Assert.Equal(tuples[i].History.Count, mask.AsSpan(i * 4, 4).ToArray().Sum());
        Assert.Equal(tuples.Select(t => (float)t.Reward), f["reward"].ReadFloat32());
        Assert.Equal(tuples.Select(t => t.Done ? 1 : 0), f["done"].ReadInt32());
        // The action row of tuple 0 is the [CLS] embedding of its seller response.
        var enc = new BertEncoder(BertCheckpoint.Load(TestData.Tiny), maxLength: 24);
        var expected = enc.Embed([tuples[0].SellerResponse], Pooling.Cls);
        var action = f["action"].ReadFloat32();
        for (int k = 0; k < 16; k++) Assert.Equal(expected[0, k], action[k], 1e-5f);
        var state = f["state"].ReadFloat32();
        int last = tuples.FindIndex(t => t.History.Count > 0 && t.History.Count < 4);
        if (last >= 0) Assert.All(state.AsSpan((last * 4 + tuples[last].History.Count) * 16, 16).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void BadPoolingIsRefused()
    {
        var (code, _, err) = Run("encode", "--bert", TestData.Tiny, "--input", "x", "--output", "y", "--pooling", "max");
        Assert.NotEqual(0, code);
        Assert.Contains("--pooling must be none, cls or mean", err);
    }
}
