// The row-owned layer (BertRowLayer.cs, the default at 2 threads with AVX-512 where the batch splits evenly) against
// the phase path: the same bits on MiniLM for an even batch, the AVX2 kernels' combinations keeping the phase path,
// and an odd batch (phase path) still equal to its sequences encoded in an even batch. The switches are process-wide,
// so these run in the non-parallel BertSwitches collection.
using NanoMbpo.Bert.Cpu;
using NanoMbpo.Cpu;

namespace NanoMbpo.Bert.Tests;

[Collection(BertSwitchesCollection.Name)]
public class RowLayerTests
{
    static float[] Hidden(TokenBatch batch)
    {
        var h = new float[batch.Batch * batch.SeqLen * 384];
        new BertEncoder(MiniLm.Checkpoint, batch.SeqLen, batch.Batch).Run(batch, (b, s) => s.CopyTo(h.AsSpan(b * batch.SeqLen * 384)));
        return h;
    }

    static void AssertBitwise(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what} [{i}]: {expected[i]:R} vs {actual[i]:R}");
    }

    [MiniLmFact]
    public void RowOwnedLayerGivesThePhasePathsBits()
    {
        int threads = CpuThreads.Count, width = PackedGemm.PanelWidth;
        bool wide = BertInference.UseWideAttention;
        long maxBytes = BertInference.RowLayerMaxWeightBytes;
        CpuThreads.Count = 2;
        try
        {
            var tok = new BertTextTokenizer(MiniLm.Checkpoint.VocabPath);
            var batch = tok.EncodeBatch(BertParityTests.Dialog[..6], 40);   // padded rows, 3 sequences per thread
            var widths = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? new[] { 32, 16 } : PackedGemm.NarrowSupported ? new[] { 16 } : [];
            Assert.True(widths.Length > 0 || !PackedGemm.Supported);
            foreach (int nr in widths)
                foreach (bool wideAttention in new[] { true, false })
                {
                    PackedGemm.PanelWidth = nr;
                    BertInference.UseWideAttention = wideAttention;
                    BertInference.RowLayer = false;
                    var phases = Hidden(batch);
                    BertInference.RowLayer = true;
                    long runs = BertInference.RowLayerRuns;
                    AssertBitwise(phases, Hidden(batch), $"{nr}-column panels, wide attention {wideAttention}");
                    // All 6 layers ran row-owned on the Vector512 kernels; the AVX2 ones keep the phase path (faster there).
                    Assert.Equal(runs + (nr == 32 && wideAttention ? 6 : 0), BertInference.RowLayerRuns);
                }
            // B = 5 does not split over 2 threads: the phase path, the same bits per sequence as in the even batch.
            var odd = tok.EncodeBatch(BertParityTests.Dialog[1..6], 40);
            Assert.Equal(batch.SeqLen, odd.SeqLen);   // both hold the truncated long utterance
            var even = Hidden(batch);
            long before = BertInference.RowLayerRuns;
            AssertBitwise(even[(batch.SeqLen * 384)..], Hidden(odd), "odd batch (phase path) vs even batch (row layer)");
            Assert.Equal(before, BertInference.RowLayerRuns);
            // Layers over the weight limit (BERT-base's 28 MB) keep the phase path.
            BertInference.RowLayerMaxWeightBytes = 1 << 20;
            Hidden(batch);
            Assert.Equal(before, BertInference.RowLayerRuns);
        }
        finally
        {
            CpuThreads.Count = threads; PackedGemm.PanelWidth = width;
            BertInference.UseWideAttention = wide; BertInference.RowLayer = true; BertInference.RowLayerMaxWeightBytes = maxBytes;
        }
    }
}

/// <summary>The fused path's hot loop allocates nothing per call once warm (the brief's "no per-call allocation"):
/// 1 thread, and 2 threads on the row-owned layer and on the phase path.</summary>
[Collection(BertSwitchesCollection.Name)]
public class InferenceAllocationTests
{
    static float sink;

    [MiniLmFact]
    public void AWarmForwardAllocatesNothingOnTheCallingThread()
    {
        int threads = CpuThreads.Count;
        try
        {
            var tok = new BertTextTokenizer(MiniLm.Checkpoint.VocabPath);
            var batch = tok.EncodeBatch(BertParityTests.Dialog[..4], 32);
            var enc = new BertEncoder(MiniLm.Checkpoint, 32, 4);
            Action<int, ReadOnlySpan<float>> take = static (_, h) => sink += h[0];
            foreach (var (n, rowLayer) in new[] { (1, true), (2, true), (2, false) })
            {
                CpuThreads.Count = n;
                BertInference.RowLayer = rowLayer;
                for (int i = 0; i < 3; i++) enc.Run(batch, take);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 5; i++) enc.Run(batch, take);
                long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(bytes == 0, $"{n} thread(s), row-owned layer {rowLayer}: {bytes} bytes allocated over 5 warm forwards");
            }
        }
        finally { CpuThreads.Count = threads; BertInference.RowLayer = true; }
    }
}
