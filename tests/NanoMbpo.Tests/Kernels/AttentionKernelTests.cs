// Parity tests for the fused attention (Attention.cs, AttentionBackward.cs) against a double
// reference: key-padding mask, causal mask with a fully masked row, dense (B,NH,T,HS) and packed
// (B,T,3C) layouts, T not a multiple of the query/key tiles; forward (o, lse) and backward (dq, dk, dv).
// The flash kernels (AttentionFlash.cs, AttentionFlashBackward.cs; chosen when no tile is given) runs with float4 rows (HS 8) and
// scalar rows (HS 7), and over several 64-row query and key blocks (T 150: online-softmax rescaling).
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
    [Fact] public void Attention_Flash_CpuWarp32() => CheckFlash(fx.CpuWarp32, 2, 2, 13, 8);
    [Fact] public void Attention_Flash_CpuWarp32_ManyBlocksOddHead() => CheckFlash(fx.CpuWarp32, 2, 1, 150, 7);
    [CudaFact] public void Attention_Cuda() => Check(fx.Cuda, null);
    [CudaFact] public void Attention_Cuda_ManyBlocks() => Check(fx.Cuda, null, 2, 3, 300, 64);
    [CudaFact] public void Attention_Cuda_ManyBlocksOddHead() => Check(fx.Cuda, null, 1, 2, 150, 7);

    static void CheckFlash(Accelerator acc, int b, int nh, int t, int hs)
    {
        Assert.True(KernelLauncher.For(acc).FlashAttentionAvailable(hs), "the flash kernel should run on this device");
        Check(acc, null, b, nh, t, hs);
    }

    static void Check(Accelerator acc, AttentionTile? tile, int B = 2, int NH = 2, int T = 13, int HS = 8,
        AttentionTile? backwardTile = null)
    {
        backwardTile ??= tile;
        // Batch 1 pads its last 4 keys; the causal case also masks key 0 of batch 1, leaving its
        // query 0 with no key at all (output 0, lse +inf, zero gradients).
        var mask = new int[B * T];
        for (int t = 0; t < T; t++)
        {
            mask[t] = 1;
            if (B > 1) mask[T + t] = t < T - 4 ? 1 : 0;
        }
        // Long rows: batch 0 pads keys 64..127 (a whole key block between live ones), batch 1 keys
        // 0..63 (rows start with an empty block; its causal rows 0..63 have no key at all).
        if (T > 128)
            for (int t = 0; t < 64; t++) { mask[64 + t] = 0; if (B > 1) mask[T + t] = 0; }
        Run(acc, tile, backwardTile, packed: false, causal: false, mask, B, NH, T, HS);
        var causalMask = (int[])mask.Clone();
        if (B > 1) causalMask[T] = 0;
        else causalMask[0] = 0;
        Run(acc, tile, backwardTile, packed: true, causal: true, causalMask, B, NH, T, HS);
    }

    static void Run(Accelerator acc, AttentionTile? tile, AttentionTile? backwardTile, bool packed, bool causal, int[] mask, int B, int NH, int T, int HS)
    {
        var kl = KernelLauncher.For(acc);
        var g = packed ? AttentionArgs.PackedBtc(B, NH, T, HS, causal) : AttentionArgs.Contiguous(B, NH, T, HS, causal);
        int c = NH * HS, n = B * T * c;
        // Packed: one (B,T,3C) buffer, q/k/v at column offsets 0, C, 2C. Dense: three buffers.
        int qkvLen = packed ? 3 * n : n;
        var qkv = Ref.Randn(3 * n, 61, 1.5f);
        long QOff(int b, int h, int t) => g.Qkv(b, h, t);
        float[] Q = new float[qkvLen], K = new float[qkvLen], V = new float[qkvLen];
        if (packed) { Q = qkv; K = qkv; V = qkv; }
        else { Array.Copy(qkv, 0, Q, 0, n); Array.Copy(qkv, n, K, 0, n); Array.Copy(qkv, 2 * n, V, 0, n); }
        int kShift = packed ? c : 0, vShift = packed ? 2 * c : 0;
        double Qv(int b, int h, int t, int d) => Q[QOff(b, h, t) + d];
        double Kv(int b, int h, int t, int d) => K[QOff(b, h, t) + kShift + d];
        double Vv(int b, int h, int t, int d) => V[QOff(b, h, t) + vShift + d];
        var dout = Ref.Randn(n, 62);

        // Reference, double precision, explicit T x T per (b, h).
        var eo = new double[n]; var eLse = new double[B * NH * T];
        var edq = new double[qkvLen]; var edk = new double[qkvLen]; var edv = new double[qkvLen];
        double scale = 1 / Math.Sqrt(HS);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
            {
                var p = new double[T, T];
                var dsum = new double[T];
                for (int i = 0; i < T; i++)
                {
                    double m = double.NegativeInfinity;
                    var s = new double[T];
                    for (int j = 0; j < T; j++)
                    {
                        bool ok = mask[b * T + j] != 0 && (!causal || j <= i);
                        s[j] = double.NegativeInfinity;
                        if (!ok) continue;
                        double dot = 0;
                        for (int d = 0; d < HS; d++) dot += Qv(b, h, i, d) * Kv(b, h, j, d);
                        s[j] = dot * scale;
                        m = Math.Max(m, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < T; j++) sum += double.IsNegativeInfinity(s[j]) ? 0 : Math.Exp(s[j] - m);
                    eLse[(b * NH + h) * T + i] = sum > 0 ? m + Math.Log(sum) : double.PositiveInfinity;
                    for (int j = 0; j < T; j++) p[i, j] = sum > 0 && !double.IsNegativeInfinity(s[j]) ? Math.Exp(s[j] - m) / sum : 0;
                    long oo = g.O(b, h, i);
                    for (int d = 0; d < HS; d++)
                    {
                        double acc2 = 0;
                        for (int j = 0; j < T; j++) acc2 += p[i, j] * Vv(b, h, j, d);
                        eo[oo + d] = acc2;
                        dsum[i] += dout[oo + d] * acc2;
                    }
                }
                for (int i = 0; i < T; i++)
                    for (int j = 0; j < T; j++)
                    {
                        if (p[i, j] == 0) continue;
                        long oo = g.O(b, h, i);
                        double dp = 0;
                        for (int d = 0; d < HS; d++) dp += dout[oo + d] * Vv(b, h, j, d);
                        double ds = p[i, j] * (dp - dsum[i]);
                        for (int d = 0; d < HS; d++)
                        {
                            edq[QOff(b, h, i) + d] += scale * ds * Kv(b, h, j, d);
                            edk[QOff(b, h, j) + kShift + d] += scale * ds * Qv(b, h, i, d);
                            edv[QOff(b, h, j) + vShift + d] += p[i, j] * dout[oo + d];
                        }
                    }
            }

        using var bq = acc.Upload(Q); using var bk = packed ? null : acc.Upload(K); using var bv = packed ? null : acc.Upload(V);
        ArrayView<float> q = bq.View, k = packed ? q.SubView(c) : bk!.View, v = packed ? q.SubView(2 * c) : bv!.View;
        using var bmask = acc.Upload(mask); using var bo = acc.Zeros<float>(n); using var blse = acc.Zeros<float>(B * NH * T);
        using var bdout = acc.Upload(dout); using var bdsum = acc.Zeros<float>(B * NH * T);
        using var bdq = acc.Zeros<float>(qkvLen); using var bdk = acc.Zeros<float>(qkvLen); using var bdv = acc.Zeros<float>(qkvLen);
        ArrayView<float> dq = bdq.View, dk = packed ? dq.SubView(c) : bdk.View, dv = packed ? dq.SubView(2 * c) : bdv.View;
        kl.AttentionForward(bo.View, blse.View, q, k, v, bmask.View, g, tile);
        kl.AttentionBackward(dq, dk, dv, bdsum.View, bdout.View, q, k, v, bo.View, blse.View, bmask.View, g, backwardTile);

        string what = $"attention packed={packed} causal={causal} tile={tile}";
        Ref.AssertClose(eo, bo.Read(n), Tol, what + " o", floor: 1);
        Ref.AssertClose(eLse, blse.Read(B * NH * T), Tol, what + " lse", floor: 1);
        if (packed)
        {
            // dq, dk, dv interleave in one packed gradient buffer.
            var all = new double[qkvLen];
            for (int i = 0; i < qkvLen; i++) all[i] = edq[i] + edk[i] + edv[i];
            Ref.AssertClose(all, bdq.Read(qkvLen), Tol, what + " dqkv", floor: 1);
        }
        else
        {
            Ref.AssertClose(edq, bdq.Read(n), Tol, what + " dq", floor: 1);
            Ref.AssertClose(edk, bdk.Read(n), Tol, what + " dk", floor: 1);
            Ref.AssertClose(edv, bdv.Read(n), Tol, what + " dv", floor: 1);
        }
    }
}
