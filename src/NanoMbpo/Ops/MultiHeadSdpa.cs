// Multi-head scaled dot-product attention straight on (B,T,C) projections: head h of q, k and v is
// the column block [h·HS, (h+1)·HS) of each row, so the heads are strided GEMMs (row stride C, head
// stride HS) instead of copies to (B,NH,T,HS) and back. Same math, masks and all-masked-row rule as
// F.ScaledDotProductAttention (ScaledDotProductAttention.cs, whose row softmax it shares):
//   P = softmax(q·kᵀ/√HS), out = P·v;  dv = Pᵀ·dout, dS = P ⊙ (dout·vᵀ − rowsum), dq = dS·k/√HS, dk = dSᵀ·q/√HS.
// On a device it is the composition reshape → permute → sdpa → permute → reshape (the fused device
// kernels). Gradient check: catalog "mh_sdpa*"; equality with the composition (CPU, both dtypes) and
// through MultiHeadAttention's torch fixtures: tests/NanoMbpo.Tests/Ops/MultiHeadSdpaTests.cs.
using System.Numerics;
using System.Numerics.Tensors;
using NanoMbpo.Cpu;

namespace NanoMbpo;

public static partial class F
{
    /// <summary>q (B,T,NH·HS), k (B,S,NH·HS), v (B,S,NH·HV), keyPaddingMask I32 (B,S) nonzero = padded
    /// → (B,T,NH·HV), head h in columns [h·HV, (h+1)·HV).</summary>
    public static Tensor MultiHeadSdpa(Tensor q, Tensor k, Tensor v, int numHeads, Tensor? keyPaddingMask = null, bool causal = false)
    {
        const string op = "multi_head_sdpa";
        OpCheck.Float(q, op, "q"); OpCheck.SameDType(q, k, op); OpCheck.SameDType(q, v, op);
        OpCheck.Rank(q, 3, op, "q"); OpCheck.Rank(k, 3, op, "k"); OpCheck.Rank(v, 3, op, "v");
        int B = q.Shape[0], T = q.Shape[1], C = q.Shape[2], S = k.Shape[1], CV = v.Shape[2], NH = numHeads;
        if (NH < 1 || C % NH != 0 || CV % NH != 0)
            throw new ArgumentException($"{op}: numHeads {NH} must divide q's width {C} and v's width {CV}.", nameof(numHeads));
        if (k.Shape[0] != B || k.Shape[2] != C || v.Shape[0] != B || v.Shape[1] != S)
            throw new ArgumentException($"{op}: k{k.ShapeString} and v{v.ShapeString} must be ({B},S,{C}) and ({B},S,CV) to match q{q.ShapeString}.");
        int HS = C / NH, HV = CV / NH;
        if (Dev.OnDevice(op, q, k, v))
        {
            Tensor Heads(Tensor x, int t, int hs) => Permute(Reshape(x, B, t, NH, hs), 0, 2, 1, 3);
            var o = ScaledDotProductAttention(Heads(q, T, HS), Heads(k, S, HS), Heads(v, S, HV), keyPaddingMask, causal);
            return Reshape(Permute(o, 0, 2, 1, 3), B, T, CV);
        }
        int[]? mask = null;
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.DType != DType.I32 || keyPaddingMask.Rank != 2 || keyPaddingMask.Shape[0] != B || keyPaddingMask.Shape[1] != S)
                throw new ArgumentException($"{op}: keyPaddingMask {keyPaddingMask} must be I32 (B,S) = ({B},{S}).", nameof(keyPaddingMask));
            mask = NN.TensorArena.Scratch<int>(B * S);   // no allocation per call inside a step arena
            (keyPaddingMask.Device.IsCpu ? keyPaddingMask : keyPaddingMask.To(Device.Cpu)).I32.CopyTo(mask);
        }
        var y = Tensor.Empty([B, T, CV], q.DType);   // every element written by the P·v GEMMs (beta 0)
        var g = new AttnShape(B * NH, NH, T, S, HS, HV, mask, causal);
        Array probs = q.DType == DType.F32 ? MhForward<float>(q, k, v, y, g, B, C, CV) : MhForward<double>(q, k, v, y, g, B, C, CV);
        return Autograd.Record(y, "multi_head_sdpa", dy =>
        {
            if (q.DType == DType.F32) MhBackward(q, k, v, dy, (float[])probs, g, B, C, CV);
            else MhBackward(q, k, v, dy, (double[])probs, g, B, C, CV);
        }, q, k, v);
    }

    static T[] MhForward<T>(Tensor q, Tensor k, Tensor v, Tensor y, AttnShape g, int B, int C, int CV) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int NH = g.NH, T_ = g.T, S = g.S;
        var P = NN.TensorArena.Scratch<T>(checked((int)(g.BH * g.ST)));   // (B,NH,T,S), kept for backward
        if (P.Length == 0) { y.Data<T>().Clear(); return P; }
        T scale = T.One / T.Sqrt(T.CreateTruncating(g.HS));
        ReadOnlySpan<T> qd = q.Data<T>(), kd = k.Data<T>(), vd = v.Data<T>();
        for (int b = 0; b < B; b++)
            Gemm.Run<T>(false, true, NH, T_, S, g.HS, scale, qd[(b * T_ * C)..], C, g.HS, kd[(b * S * C)..], C, g.HS,
                T.Zero, P.AsSpan((int)(b * NH * g.ST)), S, g.ST);
        CpuThreads.For(g.BH * T_, Math.Max(1, 16384 / Math.Max(S, 1)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++) MaskedSoftmaxRow(P.AsSpan(r * S, S), g, r);
        });
        var yd = y.Data<T>();
        for (int b = 0; b < B; b++)
            Gemm.Run<T>(false, false, NH, T_, g.HV, S, T.One, P.AsSpan((int)(b * NH * g.ST)), S, g.ST, vd[(b * S * CV)..], CV, g.HV,
                T.Zero, yd[(b * T_ * CV)..], CV, g.HV);
        return P;
    }

    static void MhBackward<T>(Tensor q, Tensor k, Tensor v, Tensor dy, T[] P, AttnShape g, int B, int C, int CV) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int NH = g.NH, T_ = g.T, S = g.S, HS = g.HS, HV = g.HV;
        if (P.Length == 0) return;
        ReadOnlySpan<T> dout = dy.Data<T>(), qd = q.Data<T>(), kd = k.Data<T>(), vd = v.Data<T>();
        if (v.RequiresGrad)
        {
            var dv = v.GradData<T>();
            for (int b = 0; b < B; b++)
                Gemm.Run<T>(true, false, NH, S, HV, T_, T.One, P.AsSpan((int)(b * NH * g.ST)), S, g.ST, dout[(b * T_ * CV)..], CV, HV,
                    T.One, dv[(b * S * CV)..], CV, HV);
        }
        if (!q.RequiresGrad && !k.RequiresGrad) return;
        var dS = NN.TensorArena.Scratch<T>(P.Length);
        for (int b = 0; b < B; b++)
            Gemm.Run<T>(false, true, NH, T_, S, HV, T.One, dout[(b * T_ * CV)..], CV, HV, vd[(b * S * CV)..], CV, HV,
                T.Zero, dS.AsSpan((int)(b * NH * g.ST)), S, g.ST);
        CpuThreads.For(g.BH * T_, Math.Max(1, 16384 / Math.Max(S, 1)), (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                var p = P.AsSpan(r * S, S);
                var d = dS.AsSpan(r * S, S);
                T dot = TensorPrimitives.Dot<T>(p, d);
                TensorPrimitives.Subtract(d, dot, d);
                TensorPrimitives.Multiply(d, p, d);   // masked keys have p = 0, so they get nothing
            }
        });
        T scale = T.One / T.Sqrt(T.CreateTruncating(HS));
        if (q.RequiresGrad)
        {
            var dq = q.GradData<T>();
            for (int b = 0; b < B; b++)
                Gemm.Run<T>(false, false, NH, T_, HS, S, scale, dS.AsSpan((int)(b * NH * g.ST)), S, g.ST, kd[(b * S * C)..], C, HS,
                    T.One, dq[(b * T_ * C)..], C, HS);
        }
        if (k.RequiresGrad)
        {
            var dk = k.GradData<T>();
            for (int b = 0; b < B; b++)
                Gemm.Run<T>(true, false, NH, S, HS, T_, scale, dS.AsSpan((int)(b * NH * g.ST)), S, g.ST, qd[(b * T_ * C)..], C, HS,
                    T.One, dk[(b * S * C)..], C, HS);
        }
    }

    static GradCase MhCase(string name, int B, int NH, int T, int S, int HS, int HV, int[]? mask, bool causal)
        => GradCase.Sized(name, [[B, T, NH * HS], [B, S, NH * HS], [B, S, NH * HV]], (rng, dt, z) =>
        {
            // Heads keep their count; larger sizes widen each head (C = NH·HS·K stays divisible by NH).
            var q = Tensor.Uniform(rng, z.Shape(B, T, NH * HS), -1, 1, dt).RequireGrad();
            var k = Tensor.Uniform(rng, z.Shape(B, S, NH * HS), -1, 1, dt).RequireGrad();
            var v = Tensor.Uniform(rng, z.Shape(B, S, NH * HV), -1, 1, dt).RequireGrad();
            var m = mask is null ? null : z.Ints(rng, mask, 2, B, S);
            return new GradProblem([q, k, v], () => MultiHeadSdpa(q, k, v, NH, m, causal));
        }, $"q({B},{T},{NH}x{HS}) k({B},{S},{NH}x{HS}) v({B},{S},{NH}x{HV}){(mask is null ? "" : $" mask({B},{S})")}{(causal ? " causal" : "")}");

    [GradCases(Op = "multi_head_sdpa", Cpu = nameof(MultiHeadSdpa), Tolerance = ToleranceClass.Accumulating,
        Composite = "reshape, permute and scaled_dot_product_attention on the device")]
    static IEnumerable<GradCase> MultiHeadSdpaCases()
    {
        yield return MhCase("mh_sdpa", 2, 2, 3, 3, 4, 4, null, false);
        // Batch 1 fully padded: zeros out, zero gradient.
        yield return MhCase("mh_sdpa_padmask_cross", 2, 2, 3, 5, 3, 2, [0, 0, 1, 0, 1, 1, 1, 1, 1, 1], false);
        yield return MhCase("mh_sdpa_causal_padmask", 2, 3, 4, 4, 2, 3, [1, 0, 0, 0, 0, 0, 1, 1], true);
    }
}
