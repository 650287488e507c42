// Parity tests for the fused attention (Attention.cs, AttentionBackward.cs, AttentionFlash*.cs)
// against a double reference (AttentionReference.cs): key-padding mask, causal mask with a fully
// masked row, dense and packed (B,T,3C) layouts, T and S not multiples of the query/key tiles;
// cross-attention (S ≠ T, both S < T and S > T: causal then leaves keys no query sees) and value
// head sizes HV ≠ HS; forward (o, lse) and backward (dq, dk, dv). The flash kernels (chosen when no
// tile is given) run with float4 rows (HS, HV multiples of 4) and scalar rows, over several 64-row
// query and key blocks (T 150: online-softmax rescaling), the 32-row forward (AttentionFlashSmall.cs)
// forced, and the wide forward (AttentionFlashWide.cs, HS or HV in 65..128; generic backward). CUDA twins are [CudaFact].
// Run: dotnet test -c Release --filter "FullyQualifiedName~Kernels.AttentionKernelTests".
using ILGPU;
using ILGPU.Runtime;
using Xunit;

namespace NanoMbpo.Tests.Kernels;

// Inside the namespace so kernel types win over same-named core types (AddOp, Broadcast).
using NanoMbpo.Kernels;

public sealed class AttentionKernelTests(IlgpuFixture fx) : IClassFixture<IlgpuFixture>
{
    const double Tol = 1e-4;

    [Fact] public void Attention_CpuWarp32() => Check(fx.CpuWarp32, new AttentionTile(8, 8, 32));
    [Fact] public void Attention_CpuWarp4_UnevenTiles() => Check(fx.CpuWarp4, new AttentionTile(5, 6, 16));
    [Fact] public void Attention_CpuWarp32_Cross() => Check(fx.CpuWarp32, new AttentionTile(8, 8, 32), 2, 1, 11, 7, 5, 3);
    [Fact] public void Attention_CpuWarp4_CrossLongKeys() => Check(fx.CpuWarp4, new AttentionTile(5, 6, 16), 2, 2, 6, 13, 3, 6);
    [Fact] public void Attention_Flash_CpuWarp32() => CheckFlash(fx.CpuWarp32, 2, 2, 13, 13, 8, 8);
    [Fact] public void Attention_Flash_CpuWarp32_ManyBlocksOddHead() => CheckFlash(fx.CpuWarp32, 2, 1, 150, 150, 7, 7);
    [Fact] public void Attention_Flash_CpuWarp32_CrossVec() => CheckFlash(fx.CpuWarp32, 2, 1, 70, 9, 8, 4);
    [Fact] public void Attention_Flash_CpuWarp32_CrossLongKeysOdd() => CheckFlash(fx.CpuWarp32, 2, 1, 13, 70, 7, 10);
    [Fact] public void Attention_Flash32_CpuWarp32() => CheckFlash(fx.CpuWarp32, 2, 1, 45, 45, 8, 8, 32);
    [Fact] public void Attention_Flash32_CpuWarp32_CrossOdd() => CheckFlash(fx.CpuWarp32, 2, 1, 37, 70, 7, 12, 32);
    [Fact] public void Attention_FlashWide_CpuWarp32() => CheckWide(fx.CpuWarp32, 2, 1, 37, 70, 80, 8);
    [Fact] public void Attention_FlashWide_CpuWarp32_OddWideValues() => CheckWide(fx.CpuWarp32, 1, 2, 19, 11, 7, 97);
    [CudaFact] public void Attention_Cuda() => Check(fx.Cuda, null);
    [CudaFact] public void Attention_Cuda_FlashWide() => Check(fx.Cuda, null, 2, 3, 150, 150, 128, 128);
    [CudaFact] public void Attention_Cuda_FlashWide_OddCross() => Check(fx.Cuda, null, 2, 1, 37, 70, 67, 97);
    [CudaFact] public void Attention_Cuda_Flash32() => Check(fx.Cuda, null, 2, 3, 150, 150, 64, 64, 32);
    [CudaFact] public void Attention_Cuda_Flash32_CrossOdd() => Check(fx.Cuda, null, 2, 1, 37, 70, 7, 12, 32);
    [CudaFact] public void Attention_Cuda_ManyBlocks() => Check(fx.Cuda, null, 2, 3, 300, 300, 64, 64);
    [CudaFact] public void Attention_Cuda_ManyBlocksOddHead() => Check(fx.Cuda, null, 1, 2, 150, 150, 7, 7);
    [CudaFact] public void Attention_Cuda_Cross() => Check(fx.Cuda, null, 2, 3, 150, 77, 64, 24);
    [CudaFact] public void Attention_Cuda_CrossLongKeysOdd() => Check(fx.Cuda, null, 2, 1, 13, 70, 7, 10);
    [CudaFact] public void Attention_Cuda_GenericWideHeads() => Check(fx.Cuda, null, 1, 2, 70, 45, 80, 96);

    static void CheckFlash(Accelerator acc, int b, int nh, int t, int s, int hs, int hv, int flashRows = 0)
    {
        Assert.True(KernelLauncher.For(acc).FlashAttentionAvailable(hs, hv), "the flash kernel should run on this device");
        Check(acc, null, b, nh, t, s, hs, hv, flashRows);
    }

    static void CheckWide(Accelerator acc, int b, int nh, int t, int s, int hs, int hv)
    {
        var kl = KernelLauncher.For(acc);
        Assert.True(!kl.FlashAttentionAvailable(hs, hv) && kl.FlashWideAvailable(hs, hv), "the wide flash forward should run");
        Check(acc, null, b, nh, t, s, hs, hv);
    }

    /// <summary>flashRows: 0 = the launcher's choice, 32 or 64 = that flash forward variant.</summary>
    static void Check(Accelerator acc, AttentionTile? tile, int B = 2, int NH = 2, int T = 13, int S = 13, int HS = 8, int HV = 8,
        int flashRows = 0)
    {
        // Batch 1 pads its last 4 keys; the causal case also masks key 0 of batch 1, leaving its
        // query 0 with no key at all (output 0, lse +inf, zero gradients).
        var mask = new int[B * S];
        for (int t = 0; t < S; t++)
        {
            mask[t] = 1;
            if (B > 1) mask[S + t] = t < S - 4 ? 1 : 0;
        }
        // Long rows: batch 0 pads keys 64..127 (a whole key block between live ones), batch 1 keys
        // 0..63 (rows start with an empty block; its causal rows 0..63 have no key at all).
        if (S > 128)
            for (int t = 0; t < 64; t++) { mask[64 + t] = 0; if (B > 1) mask[S + t] = 0; }
        Run(acc, tile, flashRows, causal: false, mask, B, NH, T, S, HS, HV);
        var causalMask = (int[])mask.Clone();
        if (B > 1) causalMask[S] = 0;
        else causalMask[0] = 0;
        Run(acc, tile, flashRows, causal: true, causalMask, B, NH, T, S, HS, HV);
    }

    /// <summary>Self-attention with HV = HS runs packed (B,T,3C) when causal; everything else dense.</summary>
    static void Run(Accelerator acc, AttentionTile? tile, int flashRows, bool causal, int[] mask, int B, int NH, int T, int S, int HS, int HV)
    {
        var kl = KernelLauncher.For(acc);
        bool packed = causal && S == T && HV == HS;
        var g = packed ? AttentionArgs.PackedBtc(B, NH, T, HS, causal) : AttentionArgs.Contiguous(B, NH, T, S, HS, HV, causal);
        int c = NH * HS, oLen = B * NH * T * HV;
        float[] Q, K, V;
        if (packed)
        {
            Q = K = V = Ref.Randn(3 * B * T * c, 61, 1.5f);
        }
        else
        {
            Q = Ref.Randn(B * NH * T * HS, 61, 1.5f);
            K = Ref.Randn(B * NH * S * HS, 63, 1.5f);
            V = Ref.Randn(B * NH * S * HV, 64, 1.5f);
        }
        int kShift = packed ? c : 0, vShift = packed ? 2 * c : 0;
        var dout = Ref.Randn(oLen, 62);
        var e = AttentionReference.Run(g, Q, 0, K, kShift, V, vShift, mask, dout, oLen, causal);

        using var bq = acc.Upload(Q); using var bk = packed ? null : acc.Upload(K); using var bv = packed ? null : acc.Upload(V);
        ArrayView<float> q = bq.View, k = packed ? q.SubView(c) : bk!.View, v = packed ? q.SubView(2 * c) : bv!.View;
        using var bmask = acc.Upload(mask); using var bo = acc.Zeros<float>(oLen); using var blse = acc.Zeros<float>(B * NH * T);
        using var bdout = acc.Upload(dout); using var bdsum = acc.Zeros<float>(B * NH * T);
        using var bdq = acc.Zeros<float>(Q.Length);
        using var bdk = packed ? null : acc.Zeros<float>(K.Length); using var bdv = packed ? null : acc.Zeros<float>(V.Length);
        ArrayView<float> dq = bdq.View, dk = packed ? dq.SubView(c) : bdk!.View, dv = packed ? dq.SubView(2 * c) : bdv!.View;
        kl.AttentionForward(bo.View, blse.View, q, k, v, bmask.View, g, tile, flashRows);
        kl.AttentionBackward(dq, dk, dv, bdsum.View, bdout.View, q, k, v, bo.View, blse.View, bmask.View, g, tile);

        string what = $"attention T={T} S={S} HS={HS} HV={HV} packed={packed} causal={causal} tile={tile} flashRows={flashRows}";
        Ref.AssertClose(e.O, bo.Read(oLen), Tol, what + " o", floor: 1);
        Ref.AssertClose(e.Lse, blse.Read(B * NH * T), Tol, what + " lse", floor: 1);
        if (packed)
        {
            // dq, dk, dv interleave in one packed gradient buffer.
            var all = new double[Q.Length];
            for (int i = 0; i < all.Length; i++) all[i] = e.Dq[i] + e.Dk[i] + e.Dv[i];
            Ref.AssertClose(all, bdq.Read(Q.Length), Tol, what + " dqkv", floor: 1);
        }
        else
        {
            Ref.AssertClose(e.Dq, bdq.Read(Q.Length), Tol, what + " dq", floor: 1);
            Ref.AssertClose(e.Dk, bdk!.Read(K.Length), Tol, what + " dk", floor: 1);
            Ref.AssertClose(e.Dv, bdv!.Read(V.Length), Tol, what + " dv", floor: 1);
        }
    }
}
